"""Install the shipped code tables, poverty lines and the national income formula."""

from django.db import migrations


def forwards(apps, schema_editor):
    from jingzhun.policy.loading import load_defaults

    load_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
