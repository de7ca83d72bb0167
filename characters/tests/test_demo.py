import io

import pytest
from django.core.management import call_command
from PIL import Image

from accounts.tests.factories import UserFactory
from characters.demo import DEMO_CHARACTERS, demo_avatar_png, demo_seed
from characters.models import Character, Lorebook, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def demo_user(settings):
    return UserFactory(username=settings.DEMO_USERNAME)


def test_seed_creates_public_characters_in_two_languages(demo_user):
    lines = demo_seed()

    characters = list(Character.objects.filter(owner=demo_user).order_by("id"))
    assert [c.name for c in characters] == ["Wren Halloway", "JUNO", "林晚照", "沈星河"]
    assert [c.language for c in characters] == ["en", "en", "zh-hans", "zh-hans"]
    assert {c.visibility for c in characters} == {Visibility.PUBLIC}
    assert lines == [
        "character Wren Halloway created with lorebook 'Greyhaven Rock'",
        "character JUNO created",
        "character 林晚照 created",
        "character 沈星河 created",
        "lorebook Folk Creatures of the Old World created (8 entries)",
    ]


@pytest.mark.parametrize("name", ["Wren Halloway", "JUNO", "林晚照", "沈星河"])
def test_each_demo_character_is_a_complete_card(demo_user, name):
    demo_seed()

    character = Character.objects.get(owner=demo_user, name=name)

    for field in ("description", "personality", "scenario", "first_mes", "mes_example", "creator_notes"):
        assert len(getattr(character, field)) > 40, field
    assert 1 <= len(character.alternate_greetings) <= 2
    assert character.mes_example.startswith("<START>\n{{user}}:")
    assert character.tags.count() == 4
    assert character.versions.count() == 1
    assert character.content_hash != ""
    assert character.avatar.name.startswith(f"characters/{demo_user.pk}/")
    with Image.open(character.avatar.path) as image:
        assert image.size == (512, 512)


def test_one_character_has_its_own_lorebook_and_the_world_stands_alone(demo_user):
    demo_seed()

    wren = Character.objects.get(owner=demo_user, name="Wren Halloway")
    world = Lorebook.objects.get(owner=demo_user, character__isnull=True)

    assert wren.book.name == "Greyhaven Rock"
    assert wren.book.entries.count() == 7
    assert all(entry.keys and entry.content for entry in wren.book.entries.all())
    assert world.name == "Folk Creatures of the Old World"
    assert world.entries.count() == 8
    assert world.is_global is False
    assert Character.objects.filter(owner=demo_user, book__isnull=False).count() == 1


def test_seed_twice_creates_nothing_new(demo_user):
    demo_seed()
    counts = (Character.objects.count(), Lorebook.objects.count(), demo_user.characters.get(name="JUNO").pk)

    lines = demo_seed()

    assert (
        Character.objects.count(),
        Lorebook.objects.count(),
        demo_user.characters.get(name="JUNO").pk,
    ) == counts
    assert lines == [
        "character Wren Halloway already there",
        "character JUNO already there",
        "character 林晚照 already there",
        "character 沈星河 already there",
        "lorebook Folk Creatures of the Old World already there",
    ]


def test_a_character_the_demo_user_trashed_is_not_brought_back(demo_user):
    from characters.services import character_delete

    demo_seed()
    character_delete(character=demo_user.characters.get(name="JUNO"))

    demo_seed()

    assert demo_user.characters.filter(name="JUNO").count() == 1
    assert demo_user.characters.get(name="JUNO").is_deleted is True


def test_seed_demo_command_runs_the_characters_seed_idempotently():
    first, second = io.StringIO(), io.StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert "  characters: character JUNO created" in first.getvalue()
    assert "  characters: character JUNO already there" in second.getvalue()
    assert Character.objects.count() == 4


def test_without_the_demo_user_nothing_is_seeded():
    assert demo_seed() == ["no user 'demo'; the accounts seed makes it first"]
    assert Character.objects.count() == 0


def test_avatars_are_distinct_pngs():
    images = [demo_avatar_png(demo) for demo in DEMO_CHARACTERS]

    assert len(set(images)) == 4
    for data in images:
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("PNG", (512, 512))
