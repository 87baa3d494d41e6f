"""The segment index seeks on the prospecting method and the creation date.

A segment's count reads ``card_segment``. With the team between the tier and the method, a
count over everything an admin sees (no team condition) could seek only on stage and tier and
then read every entry of those ranges, several hundred thousand at a million cards. With the
method and the creation date right after the tier, the count seeks to each (stage, tier,
method) range from the date on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cards', '0008_dimensions_on_the_card'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='card',
            name='card_segment',
        ),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(fields=['kind', 'archived_at', 'lifecycle_stage', 'tier', 'found_by', 'created_at', 'team', 'owner', 'referred_by', 'sort_name', 'dimension_flags'], name='card_segment'),
        ),
        # Full statistics for the rebuilt index (see 0007: sampled ones mislead SQLite's planner).
        migrations.RunSQL('ANALYZE "cards_card"', migrations.RunSQL.noop),
    ]
