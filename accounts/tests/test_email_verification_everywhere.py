"""Mandatory email verification holds on every way in (M2): an unverified account gets
no JWT (so no API key, no socket, no character) until it verifies."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_an_unverified_account_gets_no_token(api_client):
    user = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "email_unverified",
            "message": "Verify your email address first: follow the link we sent when you signed up.",
        }
    }


def test_once_verified_the_token_is_issued(api_client):
    user = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200


def test_without_mandatory_verification_an_unverified_account_gets_a_token(api_client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    user = UserFactory(verified_email=False)

    response = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
