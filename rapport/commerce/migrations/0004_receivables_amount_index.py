from django.db import migrations, models
from django.db.models import Q

OPEN = Q(is_open=True, kind="invoice")


class Migration(migrations.Migration):
    """The index of all open invoices orders the amounts within a currency and due date, so the
    matrix reads those at or above a "large" threshold as ranges instead of testing each invoice."""

    dependencies = [
        ("commerce", "0003_receivables_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="invoice", name="invoice_open_all"),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=OPEN, fields=["currency", "due_on", "open_amount", "team_id", "issued_on", "owner_id", "is_open", "kind"],
                               name="invoice_open_amount"),
        ),
    ]
