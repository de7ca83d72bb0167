"""Text PostgreSQL cannot store is refused naming where it is, however deep in a JSON field."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_nul_deep_inside_a_json_field_names_its_path(user_client, user):
    from characters.tests.factories import make_lorebook

    book = make_lorebook(user, entries=0)

    response = user_client.post(
        reverse("api:lorebook_entries", args=[book.pk]),
        {"keys": ["harbour"], "content": "x", "extra": {"notes": ["fine", "bad\u0000"]}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "extra.notes.1": ["Text cannot contain the NUL character (\\u0000)."]
    }
