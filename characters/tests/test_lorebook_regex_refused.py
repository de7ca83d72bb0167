"""A regex key that could freeze a scan is refused before it is stored, on every way in:
a world file, a card's lorebook, the entry API and the book API (H1)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import export_json
from characters.models import Character, Lorebook, LorebookEntry
from characters.tests.factories import card_data, make_lorebook

BAD_KEY = "/(a+)+$/"
REASON = (
    "the regex /(a+)+$/ is refused: it repeats a part that can itself repeat or be empty "
    "(as in (a+)+ or (a?)*), which can take exponential time on some texts"
)


def _world(*keys: str) -> bytes:
    entries = {
        str(n): {"uid": n, "key": [key], "content": f"entry {n}", "comment": f"Entry {n}"}
        for n, key in enumerate(keys)
    }
    return json.dumps({"entries": entries}).encode()


def test_a_world_file_with_a_pathological_key_is_refused_naming_the_entry(user_client):
    response = user_client.post(
        reverse("api:lorebook_import"),
        {"file": SimpleUploadedFile("world.json", _world("harbour", BAD_KEY))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": [f'Lorebook entry 2 "Entry 1": {REASON}.']}
    assert Lorebook.objects.count() == 0


def test_a_card_whose_lorebook_has_a_pathological_key_is_refused(user_client):
    card_json = json.loads(export_json(card_data(name="Mira"), spec="v2"))
    card_json["data"]["character_book"] = {
        "entries": [{"keys": [BAD_KEY], "content": "x", "enabled": True, "insertion_order": 0, "id": 1}]
    }

    response = user_client.post(
        reverse("api:character_import"),
        {"file": SimpleUploadedFile("mira.json", json.dumps(card_json).encode())},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": [f"Lorebook entry 1: {REASON}."]}
    assert Character.objects.count() == 0


@pytest.mark.parametrize("field", ["keys", "secondary_keys"])
def test_an_entry_with_a_pathological_key_is_refused_naming_the_field(user_client, user, field):
    book = make_lorebook(user, entries=0)

    response = user_client.post(
        reverse("api:lorebook_entries", args=[book.pk]),
        {"keys": ["harbour"], "content": "x", field: ["harbour", BAD_KEY]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [REASON[:1].upper() + REASON[1:] + "."]}
    assert LorebookEntry.objects.filter(lorebook=book).count() == 0


def test_a_safe_regex_key_is_stored(user_client, user):
    book = make_lorebook(user, entries=0)

    response = user_client.post(
        reverse("api:lorebook_entries", args=[book.pk]),
        {"keys": ["/\\bdrag(on|ons)\\b/i"], "content": "x"},
        format="json",
    )

    assert response.status_code == 201


def test_the_entry_editor_shows_the_refusal_on_the_keys_field(client, user):
    from characters.tests.test_pages_lorebooks import _entry_data

    book = make_lorebook(user, entries=0)
    client.force_login(user)

    response = client.post(
        reverse("characters:lorebook_entry_new", args=[book.pk]), _entry_data(keys=f"harbour, {BAD_KEY}")
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"keys": [REASON[:1].upper() + REASON[1:] + "."]}
    assert LorebookEntry.objects.filter(lorebook=book).count() == 0
