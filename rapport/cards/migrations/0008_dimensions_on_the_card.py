"""Segmentation dimensions on the card: a dimension condition is checked in the list indexes.

A broad segment with a dimension condition looked up ``segments_dimensions`` once per
candidate card (0.66 s for an admin at a million people). The refresh now also writes the
dimensions as bits on the card, and the list and segment indexes carry them.
"""

from django.db import migrations, models


# Two bits per dimension, known true / known false (frequent may be neither: not a buyer).
FLAGS = (
    "(CASE WHEN likely THEN 1 ELSE 2 END) + (CASE WHEN buying THEN 4 ELSE 8 END)"
    " + (CASE WHEN familiar THEN 16 ELSE 32 END)"
    " + (CASE WHEN frequent IS NULL THEN 0 WHEN frequent THEN 64 ELSE 128 END)"
    " + (CASE WHEN priority THEN 256 ELSE 512 END)"
)


class Migration(migrations.Migration):

    dependencies = [
        ('segments', '0001_initial'),
        ('cards', '0007_segment_indexes'),
    ]

    operations = [
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
        migrations.RemoveIndex(
            model_name='card',
            name='card_segment',
        ),
        # A column with a constant default, added in place: Django's AddField would copy the
        # whole cards table on SQLite.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='card',
                    name='dimension_flags',
                    field=models.PositiveIntegerField(default=0),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE "cards_card" ADD COLUMN "dimension_flags" integer DEFAULT 0 NOT NULL',
                    'ALTER TABLE "cards_card" DROP COLUMN "dimension_flags"',
                ),
                # The dimensions the last refresh computed, as rapport.segments.services writes them.
                migrations.RunSQL(
                    f'UPDATE "cards_card" SET "dimension_flags" = f.flags FROM (SELECT card_id, {FLAGS} AS flags '
                    'FROM "segments_dimensions") f WHERE f.card_id = "cards_card"."id"',
                    migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['kind', 'archived_at', 'sort_name', 'id', 'team', 'owner', 'lifecycle_stage', 'tier', 'found_by', 'created_at', 'referred_by', 'dimension_flags'], name='card_kind_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['owner', 'kind', 'archived_at', 'sort_name', 'id', 'team', 'lifecycle_stage', 'tier', 'found_by', 'created_at', 'referred_by', 'dimension_flags'], name='card_owner_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['team', 'kind', 'archived_at', 'sort_name', 'id', 'lifecycle_stage', 'tier', 'owner', 'found_by', 'created_at', 'referred_by', 'dimension_flags'], name='card_team_sort'),
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['kind', 'archived_at', 'lifecycle_stage', 'tier', 'team', 'found_by', 'owner', 'created_at', 'referred_by', 'sort_name', 'dimension_flags'], name='card_segment'),
        ),
        # Full statistics for the rebuilt indexes (see 0007: sampled ones mislead SQLite's planner).
        migrations.RunSQL('ANALYZE "cards_card"', migrations.RunSQL.noop),
    ]
