"""API tokens stored hashed, with an expiry, several per user (issue 11 item 5).

Existing plain tokens are migrated, not invalidated: each key's SHA-256 becomes its digest (the key
itself is dropped from the database) and it expires NETDESIGNER_API_TOKEN_DAYS after this migration,
so scripts keep working until then and get a message saying how to renew after.
"""

import hashlib
from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def hash_plain_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    token_model = apps.get_model("topology", "ApiToken")
    expires = timezone.now() + timedelta(days=getattr(settings, "API_TOKEN_DAYS", 90))
    for token in token_model.objects.all():
        token.digest = hashlib.sha256(token.key.encode()).hexdigest()
        token.prefix = token.key[:6]
        token.expires = expires
        token.save(update_fields=["digest", "prefix", "expires"])


class Migration(migrations.Migration):
    dependencies = [
        ("topology", "0002_alter_job_kind"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField("apitoken", "digest", models.CharField(editable=False, max_length=64, null=True)),
        migrations.AddField("apitoken", "prefix", models.CharField(default="", editable=False, max_length=8)),
        migrations.AddField("apitoken", "expires", models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(hash_plain_keys, migrations.RunPython.noop),
        migrations.RemoveField("apitoken", "key"),
        migrations.AlterField("apitoken", "digest",
                              models.CharField(editable=False, max_length=64, unique=True)),
        migrations.AlterField("apitoken", "user", models.ForeignKey(
            on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens", to=settings.AUTH_USER_MODEL)),
    ]
