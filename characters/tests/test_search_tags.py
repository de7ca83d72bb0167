"""The tag filter: every tag asked for, case-insensitive as PostgreSQL lower-cases (as Tag's
unique constraint does), served by `Character.tag_keys`, which edits keep in step."""

import dataclasses

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from characters.models import Character, Visibility
from characters.services import character_update
from characters.tests.factories import CharacterFactory, card_data

pytestmark = pytest.mark.django_db

LONG_TAG = "x" * 64


def _public(name: str, tags: list[str]) -> Character:
    return CharacterFactory(card=card_data(name=name, tags=tags), visibility=Visibility.PUBLIC)


def _found(tags: str) -> list[str]:
    page = Client().get(reverse("api:character_search"), {"tags": tags, "sort": "new"})
    assert page.status_code == 200
    return [item["name"] for item in page.json()["results"]]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("fantasy", ["Knight", "Bard"]),
        ("FANTASY", ["Knight", "Bard"]),
        ("fantasy,music", ["Bard"]),
        ("Music,  Fantasy", ["Bard"]),
        ("slice of life", ["Baker"]),
        ("äpfel", ["Orchard keeper"]),
        ("ÄpFeL", ["Orchard keeper"]),
        (LONG_TAG, ["Long tail"]),
        (LONG_TAG + "y", []),
        ("fantas", []),
        ("sci-fi", []),
    ],
    ids=[
        "lower-case",
        "upper-case",
        "every-tag-required",
        "spaces-and-case",
        "a-tag-with-spaces",
        "umlaut",
        "umlaut-mixed-case",
        "a-64-character-tag",
        "longer-than-any-tag-is-not-cut-down",
        "a-prefix-is-not-a-tag",
        "nobody-has-it",
    ],
)
def test_tags_filter_case_insensitively_and_all_at_once(tags, expected):
    _public("Bard", ["Fantasy", "Music"])
    _public("Knight", ["fantasy"])
    _public("Baker", ["Slice of Life"])
    _public("Orchard keeper", ["ÄPFEL"])
    _public("Long tail", [LONG_TAG])

    assert sorted(_found(tags)) == sorted(expected)


def test_the_keys_follow_an_edit_of_the_tags(user):
    character = CharacterFactory(owner=user, card=card_data(tags=["Fantasy"]), visibility=Visibility.PUBLIC)
    card = dataclasses.replace(card_data(), tags=["Horror", "Noir"])

    character_update(character=character, editor=user, card=card)

    character.refresh_from_db()
    assert character.tag_keys == ["horror", "noir"]
    assert character.tag_text == "Horror Noir"
    assert _found("noir") == ["Mira the Cartographer"]
    assert _found("fantasy") == []


def test_a_new_tag_takes_the_spelling_already_stored_and_its_key():
    _public("First", ["Fantasy"])
    second = _public("Second", ["FANTASY", "Quest"])

    second.refresh_from_db()
    assert (second.tag_text, second.tag_keys) == ("Fantasy Quest", ["fantasy", "quest"])


def test_the_filter_is_one_array_test_on_the_row():
    _public("Knight", ["Fantasy"])

    with CaptureQueriesContext(connection) as queries:
        _found("fantasy")

    # The count and the page test the row's keys, with no EXISTS through the tag tables.
    filtered = [query["sql"] for query in queries.captured_queries if "tag_keys" in query["sql"]]
    assert len(filtered) == 2
    assert all('"characters_character"."tag_keys" @> ARRAY[LOWER(' in sql for sql in filtered)
    assert not any("EXISTS" in sql for sql in filtered)


@pytest.mark.parametrize("name", ["İstanbul", "ǅemal", "ΣΊΣΥΦΟΣ"])
def test_a_tag_python_and_postgresql_lower_case_differently_is_stored_once_and_found(name):
    first = _public("Ferry captain", [name])
    second = _public("Harbour master", [name.upper(), name])

    assert [tag.name for tag in first.tags.all()] == [name]
    assert list(second.tags.all()) == list(first.tags.all())
    assert sorted(_found(name)) == ["Ferry captain", "Harbour master"]
