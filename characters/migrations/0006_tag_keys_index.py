"""The tag filter's GIN index, built CONCURRENTLY so a deploy never locks the table."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("characters", "0005_character_tag_keys"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="character",
            index=django.contrib.postgres.indexes.GinIndex(fields=["tag_keys"], name="characters_tag_keys_gin"),
        ),
    ]
