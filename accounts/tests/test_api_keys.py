import hashlib

import pytest
from django.urls import reverse

from accounts.models import ApiKey
from accounts.services import MAX_ACTIVE_API_KEYS, api_key_create

pytestmark = pytest.mark.django_db


def test_create_use_and_revoke_an_api_key(user_client, api_client, user):
    created = user_client.post(reverse("api:api_keys"), {"name": "my phone"})
    raw_key = created.json()["key"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    me = api_client.get(reverse("api:me"))
    revoked = user_client.delete(reverse("api:api_key_revoke", args=[created.json()["id"]]))
    refused = api_client.get(reverse("api:me"))

    assert created.status_code == 201
    assert raw_key.startswith("tvn_")
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert revoked.status_code == 204
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": "authentication_failed",
        "message": "This API key is not valid or has been revoked.",
    }


def test_only_the_hash_is_stored_and_the_key_is_never_listed_again(user_client, user):
    raw_key = user_client.post(reverse("api:api_keys"), {"name": "cli"}).json()["key"]

    stored = ApiKey.objects.get(user=user)
    listed = user_client.get(reverse("api:api_keys")).json()["results"]

    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in str(listed)
    assert [key["name"] for key in listed] == ["cli"]
    assert "key" not in listed[0]


def test_another_user_cannot_revoke_or_list_my_key(api_client, user, other_user):
    issued = api_key_create(user=user, name="mine")
    api_client.force_authenticate(other_user)

    revoke = api_client.delete(reverse("api:api_key_revoke", args=[issued.key.pk]))
    listed = api_client.get(reverse("api:api_keys"))

    assert revoke.status_code == 404
    assert revoke.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert listed.json()["results"] == []
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None


def test_a_banned_users_key_is_refused(api_client, user):
    issued = api_key_create(user=user, name="mine")
    user.is_active = False
    user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")

    assert api_client.get(reverse("api:me")).status_code == 401


def test_an_unknown_key_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer tvn_made-up")

    assert api_client.get(reverse("api:me")).status_code == 401


def test_the_number_of_active_keys_is_limited(user_client, user):
    for index in range(MAX_ACTIVE_API_KEYS):
        api_key_create(user=user, name=f"key {index}")

    response = user_client.post(reverse("api:api_keys"), {"name": "one too many"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]
    assert ApiKey.objects.filter(user=user).count() == MAX_ACTIVE_API_KEYS


def test_blank_name_is_refused_naming_the_field(user_client):
    response = user_client.post(reverse("api:api_keys"), {"name": ""})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field may not be blank."]}


def test_key_list_runs_a_constant_number_of_queries(user_client, user, django_assert_num_queries):
    for index in range(5):
        api_key_create(user=user, name=f"key {index}")

    # JWT user lookup, the count, the page.
    with django_assert_num_queries(3):
        response = user_client.get(reverse("api:api_keys"), {"page_size": 2})
    assert response.json()["count"] == 5
    assert len(response.json()["results"]) == 2


def test_api_key_pages_create_show_once_and_revoke(client, user, other_user):
    client.force_login(user)

    created = client.post(reverse("settings_api_keys"), {"name": "laptop"})
    raw_key = created.context["new_key"]
    key = ApiKey.objects.get(user=user)
    listed = client.get(reverse("settings_api_keys"))
    revoked = client.post(reverse("settings_api_key_revoke", args=[key.pk]))

    assert raw_key.encode() in created.content
    assert raw_key.encode() not in listed.content
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None

    other_key = api_key_create(user=other_user, name="theirs").key
    assert client.post(reverse("settings_api_key_revoke", args=[other_key.pk])).status_code == 404
