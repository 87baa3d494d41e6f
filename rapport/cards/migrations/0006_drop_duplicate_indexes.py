"""Foreign keys already led by a composite index lose their own index (less to write per card).

Fact.card (fact_card_item), CurrentValue.card (current_value_card_item) and .item
(current_value_list), StageChange.card (stage_change_card), Employment.organization
(employment_org_person); and card_referred_by, which repeated the referrer's own index.
The indexes are dropped by name: altering the fields would make SQLite copy each table,
millions of rows for facts and current values.
"""

import django.db.models.deletion
from django.db import migrations, models

# (model, field, the automatic index Django created for the foreign key, its column, field options)
DROPPED = [
    ("currentvalue", "card", "cards_currentvalue_card_id_64c4b306", "card_id",
     {"to": "cards.card", "related_name": "current_values"}),
    ("currentvalue", "item", "cards_currentvalue_item_id_765b6d00", "item_id",
     {"to": "catalog.informationitem", "related_name": "+"}),
    ("employment", "organization", "cards_employment_organization_id_92427bf8", "organization_id",
     {"to": "cards.card", "related_name": "staff"}),
    ("fact", "card", "cards_fact_card_id_00c6aaa4", "card_id", {"to": "cards.card", "related_name": "facts"}),
    ("stagechange", "card", "cards_stagechange_card_id_2315b2eb", "card_id",
     {"to": "cards.card", "related_name": "stage_changes"}),
]


def _drop(model: str, field: str, index: str, column: str, options: dict) -> migrations.SeparateDatabaseAndState:
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model, name=field,
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, **options),
            ),
        ],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "cards_{model}" ("{column}")',
            ),
        ],
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cards', '0005_list_indexes_follow_the_list_order'),
        ('catalog', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='card',
            name='card_referred_by',
        ),
        *[_drop(*entry) for entry in DROPPED],
    ]
