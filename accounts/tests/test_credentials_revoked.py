"""What a ban or a new password ends (M3, M6): open sockets close at once, refresh and
access tokens stop working, sessions elsewhere end; a ban also revokes the API keys, a
reset revokes them unless the user says otherwise."""

import datetime
import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import api_key_create, user_set_active
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from tavern.asgi import application
from tavern.realtime.push import CLOSE_SIGNED_OUT
from tavern.testing.sockets import TestSocket

NEW_PASSWORD = "a-brand-new-long-phrase"


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _me_status(token: str) -> int:
    return _bearer(token).get(reverse("api:me")).status_code


def _refresh_status(refresh: str) -> int:
    return APIClient().post(reverse("api:token_refresh"), {"refresh": refresh}).status_code


@pytest.mark.django_db(transaction=True)
async def test_a_ban_closes_every_open_socket_of_the_user(user, other_user):
    chat = await database_sync_to_async(make_chat)(user)
    theirs_chat = await database_sync_to_async(make_chat)(other_user)
    chat_socket = await connect(chat.pk, user)
    access = await database_sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()
    events = TestSocket(application, f"/ws/notifications/?token={access}")
    assert (await events.connect())[0] is True
    await events.receive_json_from()  # hello
    bystander = await connect(theirs_chat.pk, other_user)

    await database_sync_to_async(user_set_active)(user=user, active=False)

    assert await chat_socket.closed_with() == CLOSE_SIGNED_OUT
    assert await events.closed_with() == CLOSE_SIGNED_OUT
    await bystander.send_json_to({"type": "typing"})
    assert (await bystander.receive_json_from())["type"] == "typing"  # still open


@pytest.mark.django_db
def test_a_ban_ends_tokens_and_api_keys_for_good(user):
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    key = api_key_create(user=user, name="bot").raw_key

    user_set_active(user=user, active=False)
    user_set_active(user=user, active=True)  # an unban does not bring them back

    assert (_me_status(access), _refresh_status(str(refresh)), _me_status(key)) == (200, 401, 401)


def _reset_password(client: Client, email: str, **form: str):
    client.post(reverse("account_reset_password"), {"email": email})
    link = re.search(r"http://\S+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link).url  # allauth moves the key into the session, then redirects
    return client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **form})


@pytest.mark.django_db
def test_a_reset_ends_every_token_session_and_by_default_the_api_keys(user):
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    key = api_key_create(user=user, name="bot").raw_key
    elsewhere = Client()
    elsewhere.force_login(user)

    response = _reset_password(Client(), user.email, revoke_api_keys="on")

    assert response.status_code == 302
    assert _me_status(access) == 401  # the old password's tokens, access ones included
    assert _refresh_status(str(refresh)) == 401
    assert _me_status(key) == 401
    assert elsewhere.get(reverse("settings_profile")).status_code == 302  # signed out there
    fresh = APIClient().post(
        reverse("api:token_obtain"), {"username": user.username, "password": NEW_PASSWORD}
    )
    assert fresh.status_code == 200


@pytest.mark.django_db
def test_a_reset_can_keep_the_api_keys(user):
    key = api_key_create(user=user, name="bot").raw_key

    _reset_password(Client(), user.email)  # box left unticked

    assert _me_status(key) == 200


@pytest.mark.django_db
def test_a_password_change_signs_other_devices_out(user):
    refresh = RefreshToken.for_user(user)
    here = Client()
    here.force_login(user)

    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert _refresh_status(str(refresh)) == 401
    assert here.get(reverse("settings_profile")).status_code == 200  # this device stays signed in


def test_the_reset_form_offers_to_revoke_the_keys_ticked():
    from accounts.forms import ResetPasswordKeyForm

    form = ResetPasswordKeyForm(user=None)

    assert form.fields["revoke_api_keys"].initial is True


@pytest.mark.django_db(transaction=True)
async def test_a_banned_users_socket_stores_nothing_even_if_the_close_was_missed(user):
    from accounts.models import User
    from chats.models import Message

    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)
    # Deactivated behind the service's back: no push reaches the socket.
    await database_sync_to_async(User.objects.filter(pk=user.pk).update)(is_active=False)

    await socket.send_json_to({"type": "send", "content": "Still here?", "client_id": "c-1"})

    assert await socket.closed_with() == CLOSE_SIGNED_OUT
    assert await database_sync_to_async(Message.objects.filter(chat=chat, author="user").count)() == 0


def _admin_form_data(client: Client, url: str, **changes: object) -> dict[str, object]:
    """What the admin's change form posts back unchanged, with `changes` applied."""
    form = client.get(url).context["adminform"].form
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value is None or isinstance(value, FieldFile):
            continue
        if isinstance(value, datetime.datetime):
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, datetime.date):
            data[name] = value.isoformat()
        else:
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.mark.django_db
def test_a_ban_from_the_users_admin_form_ends_tokens_and_api_keys_for_good(user):
    """Unticking "active" on the user's page is a ban like the list action's."""
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    key = api_key_create(user=user, name="bot").raw_key
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[user.pk])

    banned = admin.post(url, _admin_form_data(admin, url, is_active=False))
    unbanned = admin.post(url, _admin_form_data(admin, url, is_active="on"))

    assert (banned.status_code, unbanned.status_code) == (302, 302)
    assert (_me_status(access), _refresh_status(str(refresh)), _me_status(key)) == (200, 401, 401)
