"""The memory HNSW index, built CONCURRENTLY so a deploy never locks the table."""

import pgvector.django.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("chats", "0001_initial")]

    operations = [
        AddIndexConcurrently(
            model_name="memorychunk",
            index=pgvector.django.indexes.HnswIndex(
                ef_construction=64,
                fields=["embedding"],
                m=16,
                name="chats_memory_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ),
    ]
