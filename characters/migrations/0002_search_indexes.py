"""The big search indexes, built CONCURRENTLY so a deploy never locks the table."""

import django.contrib.postgres.indexes
import pgvector.django.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("characters", "0001_initial"),
        ("tavern", "0001_postgres_extensions"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="character",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="characters_search_gin"
            ),
        ),
        AddIndexConcurrently(
            model_name="character",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name"], opclasses=["gin_trgm_ops"], name="characters_name_trgm"
            ),
        ),
        AddIndexConcurrently(
            model_name="character",
            index=pgvector.django.indexes.HnswIndex(
                ef_construction=64,
                fields=["embedding"],
                m=16,
                name="characters_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ),
    ]
