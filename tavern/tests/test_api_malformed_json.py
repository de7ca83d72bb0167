"""Malformed JSON is a clear 400 on any endpoint, never a 500 (L1): nested 100,000 deep,
a NUL character that PostgreSQL cannot store, a lone surrogate, NaN."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[" * 100_000 + "]" * 100_000,
            {
                "code": "parse_error",
                "message": "The body is not usable JSON: JSON nested deeper than 64 levels.",
            },
        ),
        (
            '{"display_name": "a\\u0000b"}',
            {
                "code": "invalid",
                "message": "display_name: Text cannot contain the NUL character (\\u0000).",
                "fields": {"display_name": ["Text cannot contain the NUL character (\\u0000)."]},
            },
        ),
        (
            '{"bio": "half an emoji \\ud83d"}',
            {
                "code": "invalid",
                "message": "bio: Text contains an unpaired UTF-16 surrogate.",
                "fields": {"bio": ["Text contains an unpaired UTF-16 surrogate."]},
            },
        ),
        (
            '{"display_name": NaN}',
            {"code": "parse_error", "message": "The body is not usable JSON: NaN is not a JSON number."},
        ),
        (
            '{"display_name": "x"',
            {
                "code": "parse_error",
                "message": "The body is not usable JSON: invalid JSON "
                "(Expecting ',' delimiter: line 1 column 21 (char 20)).",
            },
        ),
    ],
    ids=["nested-100000-deep", "nul-character", "lone-surrogate", "nan", "cut-short"],
)
def test_malformed_json_is_a_400_naming_the_problem(user_client, body, expected):
    response = user_client.generic("PATCH", reverse("api:me"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"error": expected}
