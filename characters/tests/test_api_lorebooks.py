"""Lorebooks and their entries through the API: CRUD, every entry field, SillyTavern world
files in and out; everything refused to another user."""

import dataclasses
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from characters.cards import world_to_sillytavern
from characters.models import Lorebook, LorebookEntry
from characters.records import lorebook_value
from characters.tests.factories import make_lorebook

pytestmark = pytest.mark.django_db

ENTRY = {
    "uid": 7,
    "keys": ["dragon", "wyrm"],
    "secondary_keys": ["fire"],
    "comment": "Dragons",
    "content": "Dragons sleep under the mountain.",
    "constant": True,
    "vectorized": True,
    "selective": False,
    "selective_logic": "not_any",
    "order": 50,
    "position": "at_depth",
    "disabled": True,
    "exclude_recursion": True,
    "prevent_recursion": True,
    "delay_until_recursion": 2,
    "probability": 40,
    "use_probability": False,
    "depth": 2,
    "outlet_name": "lore",
    "group": "beasts",
    "group_override": True,
    "group_weight": 30,
    "scan_depth": 6,
    "case_sensitive": True,
    "match_whole_words": False,
    "use_group_scoring": True,
    "automation_id": "auto-1",
    "role": "assistant",
    "sticky": 2,
    "cooldown": 3,
    "delay": 1,
    "display_index": 9,
    "match_persona_description": True,
    "match_character_description": True,
    "match_character_personality": True,
    "match_character_depth_prompt": True,
    "match_scenario": True,
    "match_creator_notes": True,
    "ignore_budget": True,
    "triggers": ["normal", "continue"],
    "name": "Dragon lore",
    "priority": 3,
    "use_regex": True,
    "extra": {"x_custom": 1},
}


@pytest.fixture
def book(user):  # type: ignore[no-untyped-def]
    return make_lorebook(user)


@pytest.fixture
def other_book(other_user):  # type: ignore[no-untyped-def]
    return make_lorebook(other_user, name="Their lore")


def _upload(client, content: bytes, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api:lorebook_import"),
        {"file": SimpleUploadedFile("world.json", content), **extra},
        format="multipart",
    )


# ---------------------------------------------------------------- books


def test_list_shows_my_books_with_entry_counts(user_client, user, book, other_book):
    response = user_client.get(reverse("api:lorebooks"))

    assert response.status_code == 200
    assert response.json()["count"] == 1
    [item] = response.json()["results"]
    assert item["id"] == book.pk
    assert item["name"] == "Harbour lore"
    assert item["entry_count"] == 2
    assert item["is_global"] is False


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_list_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, user, page_size, django_assert_num_queries
):
    for index in range(21):
        make_lorebook(user, name=f"Book {index}")

    # JWT user lookup, the count, the page (entry counts annotated).
    with django_assert_num_queries(3):
        response = user_client.get(reverse("api:lorebooks"), {"page_size": page_size})

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size
    assert {item["entry_count"] for item in response.json()["results"]} == {2}


def test_create_a_book_with_entries(user_client, user):
    payload = {
        "name": "Dragon lore",
        "description": "All about dragons.",
        "scan_depth": 3,
        "token_budget": 500,
        "recursive_scanning": True,
        "extensions": {"x": 1},
        "is_global": True,
        "entries": [ENTRY, {"keys": ["egg"], "content": "Eggs hatch in spring."}],
    }

    response = user_client.post(reverse("api:lorebooks"), payload)

    assert response.status_code == 201
    created = Lorebook.objects.get(pk=response.json()["id"])
    assert created.owner == user
    assert response.json()["entry_count"] == 2
    for name in ("name", "description", "scan_depth", "token_budget", "recursive_scanning", "is_global"):
        assert response.json()[name] == payload[name]
    first, second = created.entries.all()
    assert {name: getattr(first, name) for name in ENTRY} == ENTRY
    assert (first.sort_index, second.sort_index) == (0, 1)
    assert second.keys == ["egg"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Ok", "scan_depth": -1}, "scan_depth"),
        ({"name": "Ok", "extensions": []}, "extensions"),
        ({"name": "Ok", "entries": [{"keys": "dragon"}]}, "entries.0.keys"),
        ({"name": "Ok", "entries": [{}, {"position": "middle"}]}, "entries.1.position"),
    ],
    ids=["empty-name", "negative-scan-depth", "extensions-not-an-object", "keys-not-a-list", "bad-position"],
)
def test_create_refuses_bad_input_naming_the_field(user_client, payload, field):
    response = user_client.post(reverse("api:lorebooks"), payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Lorebook.objects.count() == 0


def test_read_update_and_delete_my_book(user_client, book):
    url = reverse("api:lorebook", args=[book.pk])

    read = user_client.get(url)
    updated = user_client.patch(url, {"name": "Renamed", "is_global": True, "token_budget": None})
    deleted = user_client.delete(url)

    assert read.status_code == 200
    assert read.json()["entry_count"] == 2
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["is_global"]) == ("Renamed", True)
    assert updated.json()["description"] == ""
    assert deleted.status_code == 204
    assert not Lorebook.objects.filter(pk=book.pk).exists()


def test_update_refuses_an_empty_name(user_client, book):
    response = user_client.patch(reverse("api:lorebook", args=[book.pk]), {"name": ""})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field may not be blank."]}


def test_another_user_cannot_read_change_delete_or_export_a_book(api_client, user, other_book):
    api_client.force_authenticate(user)

    responses = [
        api_client.get(reverse("api:lorebook", args=[other_book.pk])),
        api_client.patch(reverse("api:lorebook", args=[other_book.pk]), {"name": "Mine"}),
        api_client.delete(reverse("api:lorebook", args=[other_book.pk])),
        api_client.get(reverse("api:lorebook_export", args=[other_book.pk])),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert responses[0].json() == {"error": {"code": "not_found", "message": "Not found."}}
    other_book.refresh_from_db()
    assert other_book.name == "Their lore"


# ---------------------------------------------------------------- world files


def test_import_a_sillytavern_world_file(user_client, user):
    world = {
        "entries": {
            "0": {"uid": 0, "key": ["harbour"], "keysecondary": [], "content": "Ships.", "comment": "Port"},
            "1": {"uid": 1, "key": ["lighthouse"], "content": "A light.", "position": 4, "depth": 2},
        }
    }

    response = _upload(user_client, json.dumps(world).encode(), name="Port town")

    assert response.status_code == 201
    created = Lorebook.objects.get(pk=response.json()["id"])
    assert created.owner == user
    assert response.json()["name"] == "Port town"
    assert response.json()["entry_count"] == 2
    lighthouse = created.entries.get(uid=1)
    assert (lighthouse.position, lighthouse.depth) == ("at_depth", 2)


def test_export_reimports_to_the_same_book(user_client, user):
    original = make_lorebook(user, entries=3, scan_depth=4, extensions={"x": 1})
    LorebookEntry.objects.filter(lorebook=original, uid=1).update(
        position="outlet", outlet_name="side", triggers=["swipe"], role="user"
    )

    exported = user_client.get(reverse("api:lorebook_export", args=[original.pk]))
    reimported = _upload(user_client, exported.content)

    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/json"
    assert exported["Content-Disposition"] == 'attachment; filename="harbour-lore.json"'
    assert json.loads(exported.content) == world_to_sillytavern(lorebook_value(original))
    copy = Lorebook.objects.get(pk=reimported.json()["id"])
    assert dataclasses.asdict(lorebook_value(copy)) == dataclasses.asdict(lorebook_value(original))


@pytest.mark.parametrize(
    "content",
    [b"not json", b'{"entries": 5}', b"[]"],
    ids=["not-json", "entries-not-an-object", "not-an-object"],
)
def test_a_bad_world_file_is_refused_naming_the_file(user_client, content):
    response = _upload(user_client, content)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert Lorebook.objects.count() == 0


@override_settings(CARD_MAX_BYTES=2048)
def test_an_oversize_world_file_is_refused_naming_the_file(user_client):
    content = json.dumps({"entries": {"0": {"content": "x" * 3000}}}).encode()

    response = _upload(user_client, content)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["The file is larger than the limit of 2.0\xa0KB."]}
    assert Lorebook.objects.count() == 0


# ---------------------------------------------------------------- entries


def test_list_entries_in_book_order(user_client, book):
    response = user_client.get(reverse("api:lorebook_entries", args=[book.pk]))

    assert response.status_code == 200
    assert [entry["content"] for entry in response.json()["results"]] == ["Lore number 0.", "Lore number 1."]
    assert set(response.json()["results"][0]) == {"id", "sort_index", *ENTRY}


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_entry_list_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, user, page_size, django_assert_num_queries
):
    big = make_lorebook(user, entries=21)

    # JWT user lookup, the book (owner checked), the count, the page.
    with django_assert_num_queries(4):
        response = user_client.get(reverse("api:lorebook_entries", args=[big.pk]), {"page_size": page_size})

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size


def test_create_an_entry_with_every_field(user_client, book):
    response = user_client.post(reverse("api:lorebook_entries", args=[book.pk]), ENTRY)

    assert response.status_code == 201
    entry = LorebookEntry.objects.get(pk=response.json()["id"])
    assert entry.lorebook == book
    assert entry.sort_index == 2
    assert {name: getattr(entry, name) for name in ENTRY} == ENTRY
    assert {name: response.json()[name] for name in ENTRY} == ENTRY


def test_create_an_entry_with_defaults(user_client, book):
    response = user_client.post(reverse("api:lorebook_entries", args=[book.pk]), {"keys": ["tide"]})

    assert response.status_code == 201
    assert response.json()["keys"] == ["tide"]
    assert response.json()["position"] == "before_char"
    assert response.json()["delay_until_recursion"] is False


def test_read_update_and_delete_an_entry(user_client, book):
    entry = book.entries.get(uid=0)
    url = reverse("api:lorebook_entry", args=[book.pk, entry.pk])

    read = user_client.get(url)
    updated = user_client.patch(url, {"content": "New lore.", "disabled": True, "keys": ["a", "b"]})
    deleted = user_client.delete(url)

    assert read.status_code == 200
    assert read.json()["content"] == "Lore number 0."
    assert updated.status_code == 200
    assert (updated.json()["content"], updated.json()["disabled"]) == ("New lore.", True)
    assert updated.json()["keys"] == ["a", "b"]
    assert updated.json()["comment"] == "entry 0"
    assert deleted.status_code == 204
    assert list(book.entries.values_list("uid", flat=True)) == [1]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"keys": "dragon"}, "keys"),
        ({"keys": ["ok", 1]}, "keys.1"),
        ({"secondary_keys": [None]}, "secondary_keys.0"),
        ({"triggers": "normal"}, "triggers"),
        ({"position": "middle"}, "position"),
        ({"selective_logic": "maybe"}, "selective_logic"),
        ({"role": "narrator"}, "role"),
        ({"uid": [1]}, "uid"),
        ({"delay_until_recursion": "soon"}, "delay_until_recursion"),
        ({"extra": "x"}, "extra"),
        ({"probability": "often"}, "probability"),
    ],
    ids=[
        "keys-not-a-list",
        "keys-not-strings",
        "secondary-keys-null",
        "triggers-not-a-list",
        "bad-position",
        "bad-selective-logic",
        "bad-role",
        "uid-a-list",
        "bad-delay-until-recursion",
        "extra-not-an-object",
        "probability-not-a-number",
    ],
)
def test_entry_input_is_validated_naming_the_field(user_client, book, payload, field):
    entry = book.entries.get(uid=0)

    created = user_client.post(reverse("api:lorebook_entries", args=[book.pk]), payload)
    updated = user_client.patch(reverse("api:lorebook_entry", args=[book.pk, entry.pk]), payload)

    assert created.status_code == 400
    assert list(created.json()["error"]["fields"]) == [field]
    assert updated.status_code == 400
    assert list(updated.json()["error"]["fields"]) == [field]
    assert book.entries.count() == 2
    entry.refresh_from_db()
    assert entry.keys == ["key0"]


def test_another_user_cannot_reach_my_entries(api_client, other_user, book):
    entry = book.entries.get(uid=0)
    api_client.force_authenticate(other_user)

    responses = [
        api_client.get(reverse("api:lorebook_entries", args=[book.pk])),
        api_client.post(reverse("api:lorebook_entries", args=[book.pk]), {"keys": ["x"]}),
        api_client.get(reverse("api:lorebook_entry", args=[book.pk, entry.pk])),
        api_client.patch(reverse("api:lorebook_entry", args=[book.pk, entry.pk]), {"content": "mine"}),
        api_client.delete(reverse("api:lorebook_entry", args=[book.pk, entry.pk])),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404, 404]
    assert book.entries.count() == 2
    entry.refresh_from_db()
    assert entry.content == "Lore number 0."


def test_an_entry_is_reached_only_through_its_own_book(user_client, user, book):
    other_entry = make_lorebook(user, name="Second").entries.first()

    response = user_client.get(reverse("api:lorebook_entry", args=[book.pk, other_entry.pk]))

    assert response.status_code == 404


def test_lorebooks_need_a_login(api_client, book):
    assert api_client.get(reverse("api:lorebooks")).status_code == 401
    assert api_client.get(reverse("api:lorebook", args=[book.pk])).status_code == 401
