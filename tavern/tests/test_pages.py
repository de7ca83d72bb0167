import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

_EXTERNAL_ASSET = re.compile(rb"""(?:src|href)=["'](?:https?:)?//(?!127\.0\.0\.1|localhost|testserver)""")


@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/login/", "/accounts/signup/", "/admin/login/", "/api/docs/"],
    ids=["home", "login", "signup", "admin-login", "swagger"],
)
def test_public_pages_render_without_any_external_asset(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert _EXTERNAL_ASSET.search(response.content) is None


def test_home_shows_the_login_state(client, user):
    anonymous = client.get("/")
    client.force_login(user)
    logged_in = client.get("/")

    assert b"Sign up" in anonymous.content
    assert user.display_name.encode() in logged_in.content
    assert b"Log out" in logged_in.content


def test_security_headers_are_set(client):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_trusted_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"


def test_settings_link_needs_login(client):
    assert client.get(reverse("settings")).status_code == 302


@pytest.mark.parametrize(
    "page", ["home", "profile", "characters:detail"], ids=["home", "public profile", "character page"]
)
def test_read_only_pages_answer_get_and_head_and_refuse_a_post(client, user, page):
    """A page that changes nothing says so: a POST is refused (405), not answered like a GET."""
    from characters.models import Visibility
    from characters.tests.factories import CharacterFactory

    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    args = {"home": [], "profile": [user.username], "characters:detail": [character.pk]}[page]
    client.force_login(user)

    responses = [client.get(reverse(page, args=args)), client.head(reverse(page, args=args))]
    responses.append(client.post(reverse(page, args=args)))

    assert [response.status_code for response in responses] == [200, 200, 405]
