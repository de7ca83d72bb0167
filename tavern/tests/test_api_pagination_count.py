"""Pages never count a whole table: the count stops COUNT_CAP rows in (or at the page asked
for, when deeper), says so (`count_exact`, "1,000+"), and the next page stays reachable."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from characters.models import Tag, Visibility
from characters.tests.factories import CharacterFactory, card_data
from tavern.pagination import COUNT_CAP, CappedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_cap(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 4)


def _tags(count: int):  # type: ignore[no-untyped-def]
    Tag.objects.bulk_create(Tag(name=f"tag {index:02}") for index in range(count))
    return Tag.objects.order_by("id")


@pytest.mark.parametrize(
    ("rows", "page", "count", "exact", "label", "has_next"),
    [
        (3, 1, 3, True, "3", False),
        (4, 1, 4, True, "4", True),
        (5, 1, 5, False, "4+", True),
        (30, 1, 5, False, "4+", True),
        (30, 2, 7, False, "6+", True),
        (30, 3, 10, False, "9+", True),
        (30, 10, 30, True, "30", False),
        (9, 3, 9, True, "9", False),
    ],
    ids=[
        "under-the-cap",
        "at-the-cap",
        "one-past-the-cap",
        "far-past-the-cap",
        "a-page-past-the-cap-counts-one-past-it",
        "a-deeper-page-counts-one-past-it",
        "last-page-exact",
        "last-page-of-a-short-list",
    ],
)
def test_the_count_stops_past_the_cap_and_says_so(small_cap, rows, page, count, exact, label, has_next):
    paginator = CappedCountPaginator(_tags(rows), 3)

    current = paginator.get_page(page)

    assert current.number == page
    assert (paginator.count, paginator.count_exact, paginator.count_label) == (count, exact, label)
    assert current.has_next() is has_next


def test_the_count_is_one_query_that_neither_sorts_nor_counts_everything():
    paginator = CappedCountPaginator(_tags(3), 2)

    with CaptureQueriesContext(connection) as queries:
        paginator.get_page(1)

    [count] = [query["sql"] for query in queries.captured_queries]
    assert f"LIMIT {COUNT_CAP + 1}" in count
    assert "ORDER BY" not in count


def test_a_list_is_counted_exactly():
    paginator = CappedCountPaginator(list(range(5000)), 10)

    assert (paginator.count, paginator.count_exact, paginator.count_label) == (5000, True, "5,000")


def test_the_api_gives_a_lower_bound_past_the_cap_and_the_next_page(small_cap, user, user_client):
    for index in range(7):
        CharacterFactory(owner=user, card=card_data(name=f"Character {index}", tags=[]))

    first = user_client.get(reverse("api:characters"), {"page_size": 2}).json()
    last = user_client.get(reverse("api:characters"), {"page_size": 2, "page": 4}).json()

    assert (first["count"], first["count_exact"], len(first["results"])) == (5, False, 2)
    assert first["next"].endswith("?page=2&page_size=2")
    assert (last["count"], last["count_exact"], len(last["results"]), last["next"]) == (7, True, 1, None)


def test_an_exact_count_is_said_to_be_exact(user, user_client):
    CharacterFactory(owner=user)

    page = user_client.get(reverse("api:characters")).json()

    assert (page["count"], page["count_exact"]) == (1, True)


def test_the_browse_page_says_more_than_it_counted(small_cap, client):
    for index in range(30):
        CharacterFactory(card=card_data(name=f"Wanderer {index}", tags=[]), visibility=Visibility.PUBLIC)

    first = client.get(reverse("characters:browse"))
    second = client.get(reverse("characters:browse"), {"page": 2})

    # A page of 24 counts one row past itself: 25 rows, so "24+" and no last page yet.
    assert b"24+ characters" in first.content
    assert b"Page 1</span>" in first.content
    assert first.context["page"].has_next() is True
    assert len(second.context["page"].object_list) == 6
    assert b"30 characters" in second.content
    assert b"Page 2 of 2</span>" in second.content
