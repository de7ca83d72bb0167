"""A world file, or a card's book, gets the lorebook editor's limits on every way in (API,
page, card import, the operator's command): a refusal names the `file` and the entry, and
no book is stored. The editor's own ways in name their field."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from characters.cards import export_json, world_to_sillytavern
from characters.models import Character, Lorebook, LorebookEntry
from characters.tests.factories import card_data, lorebook_value, make_lorebook

pytestmark = pytest.mark.django_db


def _world(entries: int = 2, **entry_fields: object) -> bytes:
    """A world file; `entry_fields` go into its second entry."""
    world = world_to_sillytavern(lorebook_value(entries=entries))
    world["entries"]["1"].update(entry_fields)
    return json.dumps(world).encode()


REFUSED = [
    (
        {"content": "c" * 100_001},
        'Lorebook entry 2 "entry 1": the content is longer than 100,000 characters.',
    ),
    ({"group": "g" * 201}, 'Lorebook entry 2 "entry 1": the group is longer than 200 characters.'),
    ({"order": 2**40}, 'Lorebook entry 2 "entry 1": the order is out of range (1099511627776).'),
    ({"key": [f"k{n}" for n in range(201)]}, 'Lorebook entry 2 "entry 1": it has more than 200 keys.'),
    (
        {"comment": "m" * 2001},
        f'Lorebook entry 2 "{"m" * 59}…": the comment is longer than 2,000 characters.',
    ),
]
REFUSED_IDS = ["content", "group name (was a 500)", "order (was a 500)", "keys", "comment"]


def _post(client, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api:lorebook_import"),
        {"file": SimpleUploadedFile("world.json", content)},
        format="multipart",
    )


@pytest.mark.parametrize(("fields", "problem"), REFUSED, ids=REFUSED_IDS)
def test_the_api_refuses_an_entry_naming_the_file(user_client, fields, problem):
    response = _post(user_client, _world(**fields))

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": problem, "fields": {"file": [problem]}}
    }
    assert (Lorebook.objects.count(), LorebookEntry.objects.count()) == (0, 0)


@override_settings(LOREBOOK_MAX_ENTRIES=5)
def test_the_api_refuses_more_entries_than_the_limit(user_client):
    response = _post(user_client, _world(entries=6))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["The lorebook has 6 entries; the limit is 5."]}
    assert Lorebook.objects.count() == 0


def test_the_default_limit_is_ten_thousand_entries(settings):
    assert settings.LOREBOOK_MAX_ENTRIES == 10_000


@override_settings(LOREBOOK_MAX_ENTRIES=5)
def test_the_page_refuses_more_entries_than_the_limit(client, user):
    client.force_login(user)

    response = client.post(
        reverse("characters:lorebook_import"), {"file": SimpleUploadedFile("world.json", _world(entries=6))}
    )

    assert response.status_code == 200
    assert response.context["import_form"].errors == {"file": ["The lorebook has 6 entries; the limit is 5."]}
    assert Lorebook.objects.count() == 0


def test_the_page_refuses_an_entry_naming_it(client, user):
    client.force_login(user)
    fields, problem = REFUSED[0]

    response = client.post(
        reverse("characters:lorebook_import"), {"file": SimpleUploadedFile("world.json", _world(**fields))}
    )

    assert response.status_code == 200
    assert response.context["import_form"].errors == {"file": [problem]}
    assert Lorebook.objects.count() == 0


@override_settings(LOREBOOK_MAX_ENTRIES=5)
def test_a_card_with_a_book_over_the_limit_is_refused_naming_the_file(user_client):
    card = export_json(card_data(character_book=lorebook_value(entries=6)), spec="v3")

    response = user_client.post(
        reverse("api:character_import"), {"file": SimpleUploadedFile("mira.json", card)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["The lorebook has 6 entries; the limit is 5."]}
    assert (Character.objects.count(), Lorebook.objects.count()) == (0, 0)


def test_a_card_with_an_entry_over_its_limit_is_refused_naming_the_file(user_client):
    book = lorebook_value(entries=2)
    book.entries[1].content = "c" * 100_001
    card = export_json(card_data(character_book=book), spec="v3")

    response = user_client.post(
        reverse("api:character_import"), {"file": SimpleUploadedFile("mira.json", card)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "file": ['Lorebook entry 2 "entry 1": the content is longer than 100,000 characters.']
    }
    assert (Character.objects.count(), Lorebook.objects.count()) == (0, 0)


@override_settings(LOREBOOK_MAX_ENTRIES=5)
def test_the_command_reports_a_world_over_the_limit(tmp_path, user):
    folder = tmp_path / "default-user"
    (folder / "worlds").mkdir(parents=True)
    (folder / "worlds" / "Big.json").write_bytes(_world(entries=6))
    out = io.StringIO()

    call_command("import_sillytavern", str(folder), "--user", user.username, stdout=out)

    assert "  worlds/Big.json: The lorebook has 6 entries; the limit is 5." in out.getvalue().splitlines()
    assert Lorebook.objects.count() == 0


# ---------------------------------------------------------------- the editor names its field


@override_settings(LOREBOOK_MAX_ENTRIES=5)
def test_creating_a_book_over_the_limit_names_the_entries(user_client):
    entries = [{"keys": [f"k{n}"], "content": "Lore."} for n in range(6)]

    response = user_client.post(reverse("api:lorebooks"), {"name": "Big", "entries": entries}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"entries": ["The lorebook has 6 entries; the limit is 5."]}
    assert Lorebook.objects.count() == 0


@override_settings(LOREBOOK_MAX_ENTRIES=2)
def test_adding_an_entry_to_a_full_book_is_refused(user_client, user):
    book = make_lorebook(user, entries=2)

    response = user_client.post(
        reverse("api:lorebook_entries", args=[book.pk]), {"keys": ["k"], "content": "More."}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "The lorebook already has the most entries a book can: 2.",
    }
    assert book.entries.count() == 2


def test_an_entry_over_its_limit_names_the_field(user_client, user):
    book = make_lorebook(user, entries=1)

    response = user_client.post(
        reverse("api:lorebook_entries", args=[book.pk]),
        {"keys": ["k"], "content": "c" * 100_001},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "content": ["The content is longer than 100,000 characters."]
    }
    assert book.entries.count() == 1
