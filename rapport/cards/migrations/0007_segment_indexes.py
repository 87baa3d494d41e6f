"""Segment indexes: the list indexes carry the columns saved segments filter on; the referrer index holds only cards with one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def analyze_cards(apps: object, schema_editor: object) -> None:
    """New indexes have no statistics on SQLite, whose planner then guesses (and picks badly).

    A full analysis (seconds for a million cards): a sampled one counts at most the sample per
    key prefix, so every index looks equally selective and a segment's owner branch is read
    through the segment index, 100,000s of entries, instead of the owner's own range.
    """
    connection = schema_editor.connection  # type: ignore[attr-defined]
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans from column statistics, which the new indexes do not change
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "cards_card"')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_token_scope'),
        ('cards', '0006_drop_duplicate_indexes'),
        ('catalog', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='card',
            name='card_segment',
        ),
        migrations.RemoveIndex(
            model_name='card',
            name='card_kind_sort',
        ),
        migrations.RemoveIndex(
            model_name='card',
            name='card_owner_sort',
        ),
        migrations.RemoveIndex(
            model_name='card',
            name='card_team_sort',
        ),
        # Only the automatic foreign-key index goes (the partial card_referred_by replaces it):
        # dropped by name, because SQLite would otherwise copy the whole table to alter the field.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='card',
                    name='referred_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='referrals', to='cards.card', verbose_name='referred by'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cards_card_referred_by_id_217a03b1"',
                    'CREATE INDEX "cards_card_referred_by_id_217a03b1" ON "cards_card" ("referred_by_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['kind', 'archived_at', 'sort_name', 'id', 'team', 'owner', 'lifecycle_stage', 'tier', 'found_by', 'created_at', 'referred_by'], name='card_kind_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['owner', 'kind', 'archived_at', 'sort_name', 'id', 'team', 'lifecycle_stage', 'tier', 'found_by', 'created_at', 'referred_by'], name='card_owner_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['team', 'kind', 'archived_at', 'sort_name', 'id', 'lifecycle_stage', 'tier', 'owner', 'found_by', 'created_at', 'referred_by'], name='card_team_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(condition=models.Q(('referred_by__isnull', False)), fields=['referred_by'], name='card_referred_by'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['kind', 'archived_at', 'lifecycle_stage', 'tier', 'team', 'found_by', 'owner', 'created_at', 'referred_by', 'sort_name'], name='card_segment'),
        ),
        migrations.RunPython(analyze_cards, migrations.RunPython.noop),
    ]
