"""The size of each stored version, for the per-user storage quota (issue 11 item 5)."""

import json

from django.db import migrations, models


def measure(apps, schema_editor):  # type: ignore[no-untyped-def]
    version_model = apps.get_model("topology", "TopologyVersion")
    for version in version_model.objects.all().only("pk", "document").iterator():
        size = len(json.dumps(version.document, separators=(",", ":"), ensure_ascii=False).encode())
        version_model.objects.filter(pk=version.pk).update(size=size)


class Migration(migrations.Migration):
    dependencies = [("topology", "0003_sec_tokens")]

    operations = [
        migrations.AddField("topologyversion", "size", models.PositiveIntegerField(default=0, editable=False)),
        migrations.RunPython(measure, migrations.RunPython.noop),
    ]
