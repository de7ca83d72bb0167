"""The public library page: search, filters, sorting, paging, constant queries."""

import pytest
from django.urls import reverse

from characters.models import Visibility
from characters.tests.factories import CharacterFactory, card_data

pytestmark = pytest.mark.django_db

BROWSE = reverse("characters:browse")


def _public(owner=None, **card):  # type: ignore[no-untyped-def]
    extra = {"owner": owner} if owner else {}
    return CharacterFactory(card=card_data(**card), visibility=Visibility.PUBLIC, **extra)


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [character.name for character in response.context["page"].object_list]


def test_anonymous_users_see_public_characters_only(client, user):
    _public(name="Seraphina")
    CharacterFactory(owner=user, card=card_data(name="Secret"), visibility=Visibility.PRIVATE)
    CharacterFactory(owner=user, card=card_data(name="Linked"), visibility=Visibility.UNLISTED)

    response = client.get(BROWSE)

    assert response.status_code == 200
    assert _names(response) == ["Seraphina"]
    assert b"Seraphina" in response.content
    assert b"Secret" not in response.content


@pytest.mark.parametrize("count", [1, 30], ids=["one-character", "more-than-a-page"])
def test_anonymous_browse_queries_do_not_grow_with_the_page(client, django_assert_num_queries, count):
    for index in range(count):
        _public(name=f"Character {index}", tags=["Fantasy", f"tag{index}"])

    # the count, the page, the page's tags
    with django_assert_num_queries(3):
        response = client.get(BROWSE)

    assert len(response.context["page"].object_list) == min(count, 24)


@pytest.mark.parametrize("count", [1, 30], ids=["one-character", "more-than-a-page"])
def test_signed_in_browse_queries_do_not_grow_with_the_page(client, user, django_assert_num_queries, count):
    for index in range(count):
        _public(name=f"Character {index}")
    client.force_login(user)

    # the session, the user, the count, the page (favourite flag included), the page's tags
    with django_assert_num_queries(5):
        response = client.get(BROWSE, {"sort": "new", "page": "2" if count > 24 else "1"})

    assert len(response.context["page"].object_list) == (6 if count > 24 else 1)


def test_a_tag_filters_case_insensitively(client):
    _public(name="Knight", tags=["Fantasy"])
    _public(name="Pilot", tags=["Sci-fi"])

    response = client.get(BROWSE, {"tags": "fantasy"})

    assert _names(response) == ["Knight"]


def test_text_search_finds_the_name_and_keeps_the_query_in_pagination_links(client):
    for index in range(26):
        _public(name=f"Seraphina {index}", description="A forest guardian.")
    _public(name="Mira", description="A mapmaker.")

    response = client.get(BROWSE, {"q": "seraphina", "mode": "text"})

    assert response.context["page"].paginator.count == 26
    assert "Mira" not in _names(response)
    assert b'href="?q=seraphina&amp;mode=text&amp;page=2"' in response.content


def test_sort_new_puts_the_newest_first(client):
    _public(name="Old")
    _public(name="Fresh")

    response = client.get(BROWSE, {"sort": "new"})

    assert _names(response) == ["Fresh", "Old"]


def test_creator_filter_shows_one_owner(client, user, other_user):
    _public(owner=user, name="Mine")
    _public(owner=other_user, name="Theirs")

    response = client.get(BROWSE, {"creator": user.username})

    assert _names(response) == ["Mine"]


def test_an_unknown_sort_falls_back_to_popular(client):
    _public(name="Only")

    response = client.get(BROWSE, {"sort": "nonsense", "page": "x"})

    assert response.status_code == 200
    assert _names(response) == ["Only"]
