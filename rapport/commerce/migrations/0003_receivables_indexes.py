from django.db import migrations, models
from django.db.models import Q

OPEN = Q(is_open=True, kind="invoice")


class Migration(migrations.Migration):
    """The receivables indexes carry every column the matrix reads, in the order it groups by."""

    dependencies = [
        ("commerce", "0002_invoice_owner_team_copies"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="invoice", name="invoice_open_due"),
        migrations.RemoveIndex(model_name="invoice", name="invoice_card_open"),
        migrations.RemoveIndex(model_name="invoice", name="invoice_team_open"),
        migrations.RemoveIndex(model_name="invoice", name="invoice_owner_open"),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=OPEN, fields=["currency", "due_on", "team_id", "open_amount", "issued_on", "owner_id", "is_open", "kind"],
                               name="invoice_open_all"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=OPEN, fields=["team_id", "currency", "due_on", "open_amount", "issued_on", "owner_id", "card", "is_open", "kind"],
                               name="invoice_open_team"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=OPEN, fields=["owner_id", "currency", "due_on", "team_id", "open_amount", "issued_on", "card", "is_open", "kind"],
                               name="invoice_open_owner"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=OPEN, fields=["card", "currency", "due_on", "team_id", "open_amount", "issued_on", "owner_id", "is_open", "kind"],
                               name="invoice_open_card"),
        ),
        # Fresh statistics, so the planner weighs the new indexes (one table: quick).
        migrations.RunSQL("ANALYZE commerce_invoice", migrations.RunSQL.noop),
    ]
