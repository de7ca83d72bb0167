from django.contrib.postgres.operations import CreateExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pgvector (embeddings) and pg_trgm (fuzzy name search), needed by later apps."""

    initial = True
    dependencies = []

    operations = [
        CreateExtension("vector"),
        TrigramExtension(),
    ]
