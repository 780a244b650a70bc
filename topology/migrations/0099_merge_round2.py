"""Joins the second round's migrations, made side by side on separate branches."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("topology", "0003_capture_job_kind"),
        ("topology", "0003_class_copies_delete_test"),
        ("topology", "0003_engine_install"),
        ("topology", "0003_explain_jobkinds"),
        ("topology", "0003_jobs_generation"),
        ("topology", "0004_sec_version_size"),
    ]
    operations = []
