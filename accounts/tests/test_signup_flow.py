import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _sign_up(client, username="wanderer", email="wanderer@example.com"):
    return client.post(
        reverse("account_signup"),
        {
            "username": username,
            "email": email,
            "password1": "a-long-secret-phrase",
            "password2": "a-long-secret-phrase",
        },
    )


def test_sign_up_sends_a_verification_email_and_logs_nobody_in(client):
    response = _sign_up(client)

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wanderer@example.com"]
    assert EmailAddress.objects.get(email="wanderer@example.com").verified is False
    assert "_auth_user_id" not in client.session


def test_unverified_user_cannot_log_in(client):
    _sign_up(client)

    response = client.post(
        reverse("account_login"), {"login": "wanderer", "password": "a-long-secret-phrase"}
    )

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_sign_up_verify_then_log_in_by_username_and_by_email(client):
    _sign_up(client)
    link = re.search(r"http://\S+/accounts/confirm-email/(\S+)/", mail.outbox[0].body)
    assert link is not None

    confirm_url = reverse("account_confirm_email", args=[link.group(1)])
    assert client.get(confirm_url).status_code == 200
    client.post(confirm_url)
    assert EmailAddress.objects.get(email="wanderer@example.com").verified is True
    client.logout()

    by_username = client.post(
        reverse("account_login"), {"login": "wanderer", "password": "a-long-secret-phrase"}
    )
    assert by_username.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="wanderer").pk)
    client.logout()

    by_email = client.post(
        reverse("account_login"), {"login": "WANDERER@example.com", "password": "a-long-secret-phrase"}
    )
    assert by_email.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="wanderer").pk)


def test_sign_up_with_a_taken_email_creates_nothing_and_does_not_reveal_the_account(client, user):
    response = _sign_up(client, username="someone-else", email=user.email.upper())

    # Same answer as a fresh sign-up (no account enumeration); the owner is told by email.
    assert response.status_code == 302
    assert User.objects.filter(username="someone-else").exists() is False
    assert mail.outbox[0].to == [user.email]
    assert "already" in mail.outbox[0].body


def test_sign_up_with_mismatched_passwords_names_the_field(client):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "x1",
            "email": "x1@example.com",
            "password1": "a-long-secret-phrase",
            "password2": "other-phrase-1",
        },
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["password2"]
    assert User.objects.filter(username="x1").exists() is False


def test_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(reverse("account_login"), {"login": user.username, "password": "not-it"})

    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        "The username and/or password you specified are not correct."
    ]


def test_social_login_buttons_are_hidden_without_credentials(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert b"Google" not in response.content
    assert b"Discord" not in response.content
