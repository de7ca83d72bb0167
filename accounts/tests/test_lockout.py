"""One lockout policy for every way in (H2): five wrong passwords lock the account
whether they came through the form or the API, under any made-up X-Forwarded-For; too
many failures from one address lock that address, API keys included; a trusted proxy
speaks for its clients, nobody else does."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_key_create
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from tavern.client_ip import client_ip_from

pytestmark = pytest.mark.django_db

LOCKED_ACCOUNT = (
    "This account is locked after too many failed sign-ins. Try again in 15 minutes, or reset the password."
)


def _token(client: APIClient, login: str, password: str, **headers: str):
    return client.post(reverse("api:token_obtain"), {"username": login, "password": password}, **headers)


def _form_sign_in(client, login: str, password: str, **headers: str):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **headers)


def test_rotating_x_forwarded_for_does_not_buy_more_guesses(api_client, user):
    wrong = [
        _token(api_client, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]

    right = _token(api_client, user.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert wrong == [400, 400, 400, 400, 429]  # the fifth locks the account and says so
    assert right.status_code == 429
    assert right.json() == {"error": {"code": "locked_out", "message": LOCKED_ACCOUNT}}
    assert int(right["Retry-After"]) == 15 * 60


def test_failures_on_the_form_lock_the_api_and_the_other_way_round(client, api_client, user):
    for _ in range(3):
        _form_sign_in(client, user.username, "wrong")
    for _ in range(2):
        _token(api_client, user.email, "wrong")  # the same account, named by its email

    by_api = _token(api_client, user.username, DEFAULT_PASSWORD)
    by_form = _form_sign_in(client, user.email, DEFAULT_PASSWORD)

    assert by_api.status_code == 429
    assert by_form.status_code == 200  # the form again, with the reason
    assert LOCKED_ACCOUNT in by_form.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_starts_the_count_again(api_client, user):
    for _ in range(4):
        _token(api_client, user.username, "wrong")
    assert _token(api_client, user.username, DEFAULT_PASSWORD).status_code == 200

    for _ in range(4):
        _token(api_client, user.username, "wrong")

    assert _token(api_client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_many_accounts_guessed_from_one_address_lock_that_address(api_client, settings):
    settings.LOGIN_FAILURES_PER_IP = "6/15m"
    victims = UserFactory.create_batch(3)
    for victim in victims:
        for _ in range(2):
            _token(api_client, victim.username, "wrong")
    bystander = UserFactory()

    from_there = _token(api_client, bystander.username, DEFAULT_PASSWORD)
    from_elsewhere = _token(api_client, bystander.username, DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.44")

    assert from_there.status_code == 429
    assert (
        from_there.json()["error"]["message"]
        == "Too many failed sign-ins from your network. Try again in 15 minutes."
    )
    assert from_elsewhere.status_code == 200


def test_wrong_api_keys_lock_the_address_for_keys_too(api_client, user, settings):
    settings.LOGIN_FAILURES_PER_IP = "3/15m"
    issued = api_key_create(user=user, name="phone")
    for n in range(3):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer tvn_guess{n}")
        assert api_client.get(reverse("api:me")).status_code == 401

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    response = api_client.get(reverse("api:me"))

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(api_client, user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_FAILURES_PER_IP = "2/15m"
    behind_proxy = {"REMOTE_ADDR": "10.1.2.3"}
    for _ in range(2):
        _token(api_client, "nobody", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7", **behind_proxy)

    guesser = _token(
        api_client, user.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **behind_proxy
    )
    neighbour = _token(
        api_client, user.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", **behind_proxy
    )

    assert (guesser.status_code, neighbour.status_code) == (429, 200)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ([], "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        (["10.0.0.0/8"], "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (["10.0.0.0/8"], "10.0.0.2", "not-an-address", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    ],
    ids=[
        "no-trusted-proxy-ignores-the-header",
        "an-untrusted-peer-ignores-the-header",
        "a-trusted-proxy-names-the-client",
        "the-last-untrusted-hop-is-the-client",
        "garbage-in-the-header-is-ignored",
        "no-header-is-the-peer",
        "ipv6",
    ],
)
def test_client_address(settings, trusted, remote, forwarded, client):
    settings.TRUSTED_PROXIES = trusted

    assert client_ip_from(remote, forwarded) == client
