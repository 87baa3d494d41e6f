from django.db import migrations


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from rapport.deals.content import steps

    StepSignal = apps.get_model("deals", "StepSignal")
    existing = set(StepSignal.objects.values_list("step", "key"))
    StepSignal.objects.bulk_create([
        StepSignal(step=s.key, key=item["key"], kind=item.get("kind", "manual"), labels=item["labels"], position=i)
        for s in steps()
        for i, item in enumerate(s.exit)
        if (s.key, item["key"]) not in existing
    ])


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
