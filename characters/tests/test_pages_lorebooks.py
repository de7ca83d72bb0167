"""Lorebook pages: list, create, import a world file, edit settings and entries, export."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import world_from_sillytavern, world_to_sillytavern
from characters.models import Lorebook, LorebookEntry
from characters.tests.factories import CharacterFactory, card_data, lorebook_value, make_lorebook

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(user):  # type: ignore[no-untyped-def]
    return make_lorebook(user)


def _entry_data(**changes):  # type: ignore[no-untyped-def]
    data = {
        "comment": "The harbour",
        "keys": "harbour, docks",
        "secondary_keys": "",
        "selective_logic": "and_any",
        "content": "Ships come and go.\r\nGulls cry.",
        "position": "at_depth",
        "depth": "2",
        "role": "system",
        "order": "150",
        "probability": "80",
        "use_probability": "on",
        "scan_depth": "",
        "case_sensitive": "true",
        "match_whole_words": "unknown",
        "group": "places",
        "group_weight": "100",
        "sticky": "2",
        "cooldown": "",
        "delay": "",
    }
    data.update(changes)
    return data


def test_the_list_shows_only_my_books_with_a_constant_number_of_queries(
    client, user, other_user, django_assert_num_queries
):
    make_lorebook(user, name="Harbour lore")
    CharacterFactory(owner=user, card=card_data(character_book=lorebook_value(name="Mira's book")))
    make_lorebook(other_user, name="Not mine")
    client.force_login(user)

    # the session, the user, the books with their entry counts and characters
    with django_assert_num_queries(3):
        response = client.get(reverse("characters:lorebooks"))

    assert sorted(book.name for book in response.context["books"]) == ["Harbour lore", "Mira's book"]
    assert b"Not mine" not in response.content
    assert b"Mira the Cartographer" in response.content


def test_create_opens_the_new_book(client, user):
    client.force_login(user)

    response = client.post(reverse("characters:lorebooks"), {"name": "Atlas", "description": "Places."})

    book = Lorebook.objects.get(owner=user)
    assert response.url == reverse("characters:lorebook", args=[book.pk])
    assert (book.name, book.description, book.entries.count()) == ("Atlas", "Places.", 0)


def test_a_world_file_is_imported(client, user):
    client.force_login(user)
    world = json.dumps(world_to_sillytavern(lorebook_value(entries=3, name="Eldoria"))).encode()

    response = client.post(
        reverse("characters:lorebook_import"),
        {"file": SimpleUploadedFile("eldoria.json", world, content_type="application/json"), "name": ""},
    )

    book = Lorebook.objects.get(owner=user)
    assert response.url == reverse("characters:lorebook", args=[book.pk])
    assert (book.name, book.entries.count()) == ("Eldoria", 3)


def test_a_bad_world_file_is_a_form_error(client, user):
    client.force_login(user)

    response = client.post(
        reverse("characters:lorebook_import"),
        {"file": SimpleUploadedFile("x.json", b'{"entries": 5}', content_type="application/json")},
    )

    assert response.status_code == 200
    assert response.context["import_form"].errors["file"] == [
        "entries: expected an object of entries keyed by uid"
    ]
    assert Lorebook.objects.count() == 0


def test_the_editor_lists_entries_and_saves_settings(client, user, book):
    client.force_login(user)
    url = reverse("characters:lorebook", args=[book.pk])

    assert [(entry.comment, position) for entry, position in client.get(url).context["entries"]] == [
        ("entry 0", "Before char"),
        ("entry 1", "Before char"),
    ]
    response = client.post(
        url,
        {
            "name": "Renamed",
            "scan_depth": "3",
            "token_budget": "",
            "recursive_scanning": "false",
            "is_global": "on",
        },
    )

    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.name, book.scan_depth, book.token_budget, book.recursive_scanning, book.is_global) == (
        "Renamed",
        3,
        None,
        False,
        True,
    )


def test_a_new_entry_is_added_with_every_field(client, user, book):
    client.force_login(user)

    response = client.post(
        reverse("characters:lorebook_entry_new", args=[book.pk]), _entry_data(constant="on")
    )

    assert response.url == reverse("characters:lorebook", args=[book.pk])
    entry = book.entries.get(comment="The harbour")
    assert entry.keys == ["harbour", "docks"]
    assert entry.content == "Ships come and go.\nGulls cry."
    assert (entry.position, entry.depth, entry.order, entry.probability) == ("at_depth", 2, 150, 80)
    assert (entry.constant, entry.disabled, entry.case_sensitive, entry.match_whole_words) == (
        True,
        False,
        True,
        None,
    )
    assert (entry.group, entry.sticky, entry.cooldown, entry.sort_index) == ("places", 2, None, 2)


def test_an_entry_is_edited(client, user, book):
    entry = book.entries.first()
    client.force_login(user)
    url = reverse("characters:lorebook_entry", args=[book.pk, entry.pk])

    assert client.get(url).context["form"]["keys"].value() == "key0"
    client.post(url, _entry_data(disabled="on", keys="lighthouse"))

    entry.refresh_from_db()
    assert (entry.keys, entry.disabled, entry.comment) == (["lighthouse"], True, "The harbour")


def test_an_entry_is_deleted(client, user, book):
    entry = book.entries.first()
    client.force_login(user)

    client.post(reverse("characters:lorebook_entry_delete", args=[book.pk, entry.pk]))

    assert list(book.entries.values_list("comment", flat=True)) == ["entry 1"]


def test_export_is_a_sillytavern_world_file(client, user, book):
    client.force_login(user)

    response = client.get(reverse("characters:lorebook_export", args=[book.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="harbour-lore.json"'
    world = world_from_sillytavern(json.loads(response.content))
    assert [entry.content for entry in world.entries] == ["Lore number 0.", "Lore number 1."]


def test_delete_removes_the_book(client, user, book):
    client.force_login(user)

    client.post(reverse("characters:lorebook_delete", args=[book.pk]))

    assert Lorebook.objects.filter(pk=book.pk).exists() is False


def test_another_user_gets_404_on_every_lorebook_page(client, other_user, book):
    entry = book.entries.first()
    client.force_login(other_user)

    assert client.get(reverse("characters:lorebook", args=[book.pk])).status_code == 404
    assert client.post(reverse("characters:lorebook", args=[book.pk]), {"name": "x"}).status_code == 404
    assert client.get(reverse("characters:lorebook_export", args=[book.pk])).status_code == 404
    assert client.get(reverse("characters:lorebook_entry", args=[book.pk, entry.pk])).status_code == 404
    assert (
        client.post(reverse("characters:lorebook_entry_new", args=[book.pk]), _entry_data()).status_code
        == 404
    )
    assert (
        client.post(reverse("characters:lorebook_entry_delete", args=[book.pk, entry.pk])).status_code == 404
    )
    assert client.post(reverse("characters:lorebook_delete", args=[book.pk])).status_code == 404
    assert LorebookEntry.objects.filter(lorebook=book).count() == 2


def test_an_entry_of_another_book_is_not_found_through_mine(client, user, other_user, book):
    theirs = make_lorebook(other_user).entries.first()
    client.force_login(user)

    response = client.get(reverse("characters:lorebook_entry", args=[book.pk, theirs.pk]))

    assert response.status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, book):
    response = client.get(reverse("characters:lorebook", args=[book.pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
