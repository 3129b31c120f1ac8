from django.db import migrations


def create_switch(apps, schema_editor):
    PlatformSwitch = apps.get_model("compliance", "PlatformSwitch")
    PlatformSwitch.objects.get_or_create(pk=1, defaults={"sending_enabled": True})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(create_switch, migrations.RunPython.noop)]
