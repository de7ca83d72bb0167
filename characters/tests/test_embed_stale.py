import pytest

from characters.models import Character
from characters.tasks import characters_embed_stale
from characters.tests.factories import CharacterFactory

pytestmark = pytest.mark.django_db


def test_stale_characters_are_found_and_fresh_ones_left_alone(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from tavern.celery import app

    app.conf.task_always_eager = True
    try:
        stale = CharacterFactory()
        fresh = CharacterFactory()
        Character.objects.filter(pk=fresh.pk).update(embedding_hash=fresh.content_hash)

        queued = characters_embed_stale()
    finally:
        app.conf.task_always_eager = False

    assert queued == 1
    stale.refresh_from_db()
    assert stale.embedding_hash == stale.content_hash
    assert len(stale.embedding) == 384
