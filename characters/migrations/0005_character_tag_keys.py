"""`Character.tag_keys`: the tag names, lower-cased by PostgreSQL, beside the character,
so the tag filter is one array test (a GIN index, next migration) instead of a join
through CharacterTag and Tag with lower() on every row."""

import django.contrib.postgres.fields
from django.db import migrations, models

BACKFILL = """
UPDATE characters_character AS c
SET tag_keys = keys.tag_keys
FROM (
    SELECT ct.character_id, array_agg(lower(t.name) ORDER BY ct.position, ct.id) AS tag_keys
    FROM characters_charactertag AS ct
    JOIN characters_tag AS t ON t.id = ct.tag_id
    GROUP BY ct.character_id
) AS keys
WHERE keys.character_id = c.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("characters", "0004_slug_unicode"),
    ]

    operations = [
        migrations.AddField(
            model_name="character",
            name="tag_keys",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=64),
                blank=True,
                default=list,
                editable=False,
                help_text="Tag names, lower-cased by PostgreSQL, for the tag filter.",
                size=None,
            ),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop, elidable=True),
    ]
