"""Searching the public library through the API: words, fuzzy names, meaning, filters,
sorting, NSFW rules; similar characters and tag autocomplete."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import ContentFilter
from characters.models import Visibility
from characters.services import character_embedding_refresh
from characters.tests.factories import CharacterFactory, card_data

pytestmark = pytest.mark.django_db


def _public(owner, **card):  # type: ignore[no-untyped-def]
    is_nsfw = card.pop("is_nsfw", False)
    visibility = card.pop("visibility", Visibility.PUBLIC)
    language = card.pop("language", "en")
    return CharacterFactory(
        owner=owner, card=card_data(**card), visibility=visibility, is_nsfw=is_nsfw, language=language
    )


def _search(client, **query):  # type: ignore[no-untyped-def]
    return client.get(reverse("api:character_search"), query)


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["name"] for item in response.json()["results"]]


@pytest.fixture
def nsfw_viewer(user):  # type: ignore[no-untyped-def]
    """An adult who opted in to NSFW and filters nothing."""
    user.show_nsfw = True
    user.birth_date = datetime.date(1990, 1, 1)
    user.content_filter = ContentFilter.NONE
    user.save()
    return user


@pytest.fixture
def library(other_user):  # type: ignore[no-untyped-def]
    return {
        "mira": _public(other_user),
        "bruno": _public(
            other_user,
            name="Chef Bruno",
            description="A loud chef who runs a busy pizza kitchen and loves cooking pasta.",
            tags=["Comedy", "Food"],
        ),
        "unit": _public(
            other_user,
            name="Unit Seven",
            description="A battle robot from the far future, fighting alien invaders among the stars.",
            tags=["Sci-Fi"],
        ),
        "lena": _public(
            other_user,
            name="Doctor Lena",
            description="A kind hospital doctor who treats patients through long night shifts.",
            tags=["Slice of life"],
        ),
    }


# ---------------------------------------------------------------- text


def test_text_search_finds_a_word_of_the_description(api_client, library):
    response = _search(api_client, q="mapmaker")

    assert response.status_code == 200
    assert _names(response) == ["Mira the Cartographer"]


def test_text_search_finds_a_name_with_a_typo(api_client, other_user, library):
    _public(other_user, name="Seraphina", description="A guardian of the forest glade.")

    response = _search(api_client, q="Serafina")

    assert _names(response) == ["Seraphina"]


def test_text_search_ranks_name_matches_first(api_client, other_user, library):
    _public(other_user, name="Pasta", description="A sentient bowl of noodles.")

    response = _search(api_client, q="pasta")

    assert _names(response) == ["Pasta", "Chef Bruno"]


def test_search_never_shows_private_unlisted_or_deleted_characters(api_client, user, other_user, library):
    _public(other_user, name="Hidden mapmaker", visibility=Visibility.PRIVATE)
    _public(other_user, name="Link-only mapmaker", visibility=Visibility.UNLISTED)
    _public(user, name="My own private mapmaker", visibility=Visibility.PRIVATE)
    deleted = _public(other_user, name="Deleted mapmaker")
    deleted.deleted_at = deleted.created_at
    deleted.save(update_fields=["deleted_at"])
    api_client.force_authenticate(user)

    response = _search(api_client, q="mapmaker")

    assert _names(response) == ["Mira the Cartographer"]


# ---------------------------------------------------------------- nsfw


@pytest.fixture
def nsfw_character(other_user):  # type: ignore[no-untyped-def]
    return _public(other_user, name="Velvet", description="A mapmaker of the night.", is_nsfw=True)


def test_nsfw_is_hidden_from_anonymous_visitors(api_client, library, nsfw_character):
    response = _search(api_client, q="mapmaker")

    assert _names(response) == ["Mira the Cartographer"]


def test_nsfw_is_hidden_from_a_user_who_did_not_opt_in(user_client, library, nsfw_character):
    response = _search(user_client, q="mapmaker")

    assert _names(response) == ["Mira the Cartographer"]


def test_nsfw_is_hidden_from_an_opted_in_user_with_a_strict_filter(
    user_client, user, library, nsfw_character
):
    user.show_nsfw = True
    user.birth_date = datetime.date(1990, 1, 1)
    user.content_filter = ContentFilter.STRICT
    user.save()

    response = _search(user_client, q="mapmaker")

    assert _names(response) == ["Mira the Cartographer"]


def test_nsfw_is_shown_to_an_adult_who_opted_in(user_client, nsfw_viewer, library, nsfw_character):
    response = _search(user_client, q="mapmaker", sort="new")

    assert _names(response) == ["Velvet", "Mira the Cartographer"]


# ---------------------------------------------------------------- filters and sorting


def test_tag_filter_is_case_insensitive_and_needs_every_tag(api_client, other_user, library):
    _public(other_user, name="Chef Anna", tags=["Food"])

    one_tag = _search(api_client, tags="food", sort="new")
    two_tags = _search(api_client, tags="food, COMEDY")

    assert _names(one_tag) == ["Chef Anna", "Chef Bruno"]
    assert _names(two_tags) == ["Chef Bruno"]


def test_creator_and_language_filters(api_client, user, other_user, library):
    _public(user, name="Mine", language="de")
    _public(user, name="Mine too", language="en")

    by_creator = _search(api_client, creator=user.username, sort="new")
    by_language = _search(api_client, language="de")

    assert _names(by_creator) == ["Mine too", "Mine"]
    assert _names(by_language) == ["Mine"]


def test_sort_new_lists_the_newest_first(api_client, library):
    response = _search(api_client, sort="new")

    assert _names(response) == ["Doctor Lena", "Unit Seven", "Chef Bruno", "Mira the Cartographer"]


def test_sort_popular_is_the_default_without_a_query(api_client, library):
    library["unit"].chat_count = 9
    library["unit"].save(update_fields=["chat_count"])
    library["lena"].favourite_count = 3
    library["lena"].save(update_fields=["favourite_count"])

    response = _search(api_client)

    assert _names(response) == ["Unit Seven", "Doctor Lena", "Chef Bruno", "Mira the Cartographer"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"mode": "vibes"}, "mode"), ({"sort": "random"}, "sort"), ({"q": "x" * 201}, "q")],
    ids=["bad-mode", "bad-sort", "long-query"],
)
def test_bad_search_parameters_are_refused_naming_the_field(api_client, query, field):
    response = _search(api_client, **query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_search_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, other_user, page_size, django_assert_num_queries
):
    for index in range(21):
        _public(other_user, name=f"Mapmaker {index}", tags=[f"tag{index}", "maps"])

    # JWT user lookup, the count, the page (owner joined, tag names as an array per row).
    with django_assert_num_queries(3):
        response = _search(user_client, q="mapmaker", page_size=page_size)

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size
    assert all(item["tags"][1] == "maps" for item in response.json()["results"])


# ---------------------------------------------------------------- meaning


@pytest.fixture
def embedded_library(library):  # type: ignore[no-untyped-def]
    for character in library.values():
        assert character_embedding_refresh(character_id=character.pk) is True
    return library


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("someone who draws charts of unexplored shorelines", "Mira the Cartographer"),
        ("a cook making Italian food in a restaurant", "Chef Bruno"),
        ("a medic caring for the ill at a clinic", "Doctor Lena"),
    ],
    ids=["mapmaker", "cook", "medic"],
)
def test_meaning_search_finds_a_paraphrase_first(api_client, embedded_library, q, expected):
    response = _search(api_client, q=q, mode="meaning")

    assert response.status_code == 200
    assert response.json()["count"] == 4
    assert _names(response)[0] == expected


def test_meaning_search_skips_characters_not_embedded_yet(api_client, other_user, embedded_library):
    _public(other_user, name="Fresh mapmaker", description="Draws charts of unexplored shorelines.")

    response = _search(api_client, q="someone who draws charts of unexplored shorelines", mode="meaning")

    assert "Fresh mapmaker" not in _names(response)
    assert response.json()["count"] == 4


# ---------------------------------------------------------------- similar


def test_similar_lists_the_nearest_public_characters(api_client, other_user, embedded_library):
    twin = _public(
        other_user,
        name="Old Tomas",
        description="A mapmaker who charts forgotten coasts and sells sea charts to sailors.",
        tags=["Fantasy"],
    )
    private_twin = _public(
        other_user,
        name="Secret Tomas",
        description="A mapmaker who charts forgotten coasts and sells sea charts to sailors.",
        visibility=Visibility.PRIVATE,
    )
    character_embedding_refresh(character_id=twin.pk)
    character_embedding_refresh(character_id=private_twin.pk)

    response = api_client.get(reverse("api:character_similar", args=[embedded_library["mira"].pk]))

    assert response.status_code == 200
    names = [item["name"] for item in response.json()]
    assert names[0] == "Old Tomas"
    assert sorted(names) == ["Chef Bruno", "Doctor Lena", "Old Tomas", "Unit Seven"]


def test_similar_is_empty_before_the_character_is_embedded(api_client, library):
    response = api_client.get(reverse("api:character_similar", args=[library["mira"].pk]))

    assert response.status_code == 200
    assert response.json() == []


def test_similar_of_another_users_private_character_is_not_found(api_client, user, other_user):
    character = _public(other_user, visibility=Visibility.PRIVATE)
    api_client.force_authenticate(user)

    response = api_client.get(reverse("api:character_similar", args=[character.pk]))

    assert response.status_code == 404


# ---------------------------------------------------------------- tags


def test_tags_autocomplete_counts_public_characters(api_client, user, other_user, library):
    _public(other_user, name="Another fantasy", tags=["fantasy", "Family"])
    _public(user, name="Private", tags=["Fanfic secret"], visibility=Visibility.PRIVATE)
    _public(other_user, name="Adult", tags=["Fanservice"], is_nsfw=True)

    response = api_client.get(reverse("api:tags"), {"q": "fa"})

    assert response.status_code == 200
    assert [(tag["name"], tag["character_count"]) for tag in response.json()["results"]] == [
        ("Fantasy", 2),
        ("Family", 1),
    ]


def test_tags_autocomplete_shows_nsfw_tags_to_who_sees_nsfw(user_client, nsfw_viewer, other_user):
    _public(other_user, name="Adult", tags=["Fanservice"], is_nsfw=True)

    response = user_client.get(reverse("api:tags"), {"q": "fan"})

    assert [tag["name"] for tag in response.json()["results"]] == ["Fanservice"]


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_tags_run_the_same_number_of_queries_whatever_the_page_size(
    api_client, other_user, page_size, django_assert_num_queries
):
    for index in range(11):
        _public(other_user, name=f"Character {index}", tags=[f"tag{index}a", f"tag{index}b"])

    # The count, the page.
    with django_assert_num_queries(2):
        response = api_client.get(reverse("api:tags"), {"q": "tag", "page_size": page_size})

    assert response.json()["count"] == 22
    assert len(response.json()["results"]) == page_size
