from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="owner_id",
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="invoice",
            name="team_id",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(
            "UPDATE commerce_invoice SET owner_id = (SELECT owner_id FROM cards_card WHERE cards_card.id = commerce_invoice.card_id),"
            " team_id = (SELECT team_id FROM cards_card WHERE cards_card.id = commerce_invoice.card_id)",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=Q(is_open=True), fields=["team_id", "is_open", "due_on", "currency", "open_amount", "owner_id"],
                               name="invoice_team_open"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(condition=Q(is_open=True), fields=["owner_id", "is_open", "due_on", "currency", "open_amount", "team_id"],
                               name="invoice_owner_open"),
        ),
    ]
