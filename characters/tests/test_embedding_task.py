"""Search-by-meaning embeddings are made by a real Celery worker after the commit."""

import time

import pytest

from characters.models import EMBEDDING_DIMENSIONS, Character, Visibility
from characters.services import character_update
from characters.tasks import character_embed
from characters.tests.factories import CharacterFactory, card_data
from tavern.testing.waits import EVENT_WAIT_SECONDS

WAIT_SECONDS = EVENT_WAIT_SECONDS


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def wait_until_embedded(character_id: int, content_hash: str) -> Character:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        character = Character.objects.get(pk=character_id)
        if character.embedding_hash == content_hash:
            return character
        time.sleep(0.2)
    raise AssertionError(f"character {character_id} was not embedded within {WAIT_SECONDS} s")


def test_a_new_character_is_embedded_by_the_worker(celery_worker):
    character = CharacterFactory(visibility=Visibility.PUBLIC)

    embedded = wait_until_embedded(character.pk, character.content_hash)

    assert len(embedded.embedding) == EMBEDDING_DIMENSIONS
    assert embedded.embedding_hash == embedded.content_hash == character.content_hash


def test_unchanged_content_is_not_embedded_again(celery_worker):
    character = CharacterFactory(visibility=Visibility.PUBLIC)
    before = wait_until_embedded(character.pk, character.content_hash)

    again = character_embed.delay(character.pk).get(timeout=WAIT_SECONDS)

    after = Character.objects.get(pk=character.pk)
    assert again is False
    assert after.embedding_hash == before.embedding_hash
    assert list(after.embedding) == list(before.embedding)


def test_an_edited_description_is_embedded_again(celery_worker):
    character = CharacterFactory(visibility=Visibility.PUBLIC)
    before = wait_until_embedded(character.pk, character.content_hash)

    edited = character_update(
        character=character,
        editor=character.owner,
        card=card_data(description="A retired lighthouse keeper who collects storm stories."),
    )

    after = wait_until_embedded(character.pk, edited.content_hash)
    assert edited.content_hash != before.content_hash
    assert after.embedding_hash == edited.content_hash
    assert len(after.embedding) == EMBEDDING_DIMENSIONS
    assert list(after.embedding) != list(before.embedding)
