"""Settings pages of the chats app: model connections (keys encrypted, never shown
back), presets (made here or imported from SillyTavern) and daily usage."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chats.models import ModelConnection, Preset, UsageRecord
from chats.services import connection_save, preset_save
from tavern.crypto import secret_decrypt

pytestmark = pytest.mark.django_db

API_KEY = "sk-test-0123456789abcdefSECRET"


def _connection_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Local Kobold",
        "base_url": "http://127.0.0.1:5001/v1",
        "model": "mistral-7b",
        "api_key": API_KEY,
        "context_size": "8192",
        "max_reply_tokens": "400",
        "extra_headers": '{"X-Title": "Tavern"}',
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("chats:connections", []),
        ("chats:connection_new", []),
        ("chats:presets", []),
        ("chats:preset_new", []),
        ("chats:usage", []),
    ],
    ids=["connections", "connection-new", "presets", "preset-new", "usage"],
)
def test_settings_pages_need_a_login(client, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_settings_nav_links_to_connections_presets_and_usage(client, user):
    client.force_login(user)

    response = client.get(reverse("chats:connections"))

    for name in ("chats:connections", "chats:presets", "chats:usage"):
        assert f'href="{reverse(name)}"'.encode() in response.content


# ---------------------------------------------------------------- connections


def test_a_new_connection_stores_the_key_encrypted_and_never_shows_it(client, user):
    client.force_login(user)

    response = client.post(reverse("chats:connection_new"), _connection_data())

    connection = ModelConnection.objects.get(owner=user)
    assert response.status_code == 302
    assert connection.api_key_encrypted != API_KEY
    assert API_KEY not in connection.api_key_encrypted
    assert secret_decrypt(connection.api_key_encrypted) == API_KEY
    assert connection.api_key_hint == "…CRET"
    assert connection.extra_headers == {"X-Title": "Tavern"}
    edit_page = client.get(response.url)
    list_page = client.get(reverse("chats:connections"))
    assert API_KEY.encode() not in edit_page.content
    assert API_KEY.encode() not in list_page.content
    assert "…CRET".encode() in edit_page.content


def test_saving_without_a_key_keeps_the_stored_one(client, user):
    connection = connection_save(owner=user, connection=None, data=_connection_data(), api_key=API_KEY)
    client.force_login(user)

    response = client.post(
        reverse("chats:connection", args=[connection.pk]), _connection_data(api_key="", model="llama-3")
    )

    connection.refresh_from_db()
    assert response.status_code == 302
    assert connection.model == "llama-3"
    assert secret_decrypt(connection.api_key_encrypted) == API_KEY


def test_the_key_can_be_removed(client, user):
    connection = connection_save(owner=user, connection=None, data=_connection_data(), api_key=API_KEY)
    client.force_login(user)

    client.post(
        reverse("chats:connection", args=[connection.pk]), _connection_data(api_key="", remove_api_key="on")
    )

    connection.refresh_from_db()
    assert (connection.api_key_encrypted, connection.api_key_hint) == ("", "")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("{not json", "Not valid JSON"),
        ('["a"]', "A JSON object whose values are text"),
        ('{"X-N": 3}', "A JSON object whose values are text"),
    ],
    ids=["broken", "a-list", "a-number-value"],
)
def test_extra_headers_must_be_a_json_object_of_text(client, user, headers, message):
    client.force_login(user)

    response = client.post(reverse("chats:connection_new"), _connection_data(extra_headers=headers))

    assert response.status_code == 200
    assert response.context["form"].errors["extra_headers"][0].startswith(message)
    assert not ModelConnection.objects.exists()


def test_another_users_connection_is_404(client, user, other_user):
    connection = connection_save(owner=other_user, connection=None, data=_connection_data(), api_key=API_KEY)
    client.force_login(user)

    edit = client.get(reverse("chats:connection", args=[connection.pk]))
    delete = client.post(reverse("chats:connection_delete", args=[connection.pk]))
    listed = client.get(reverse("chats:connections"))

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert ModelConnection.objects.filter(pk=connection.pk).exists()
    assert b"Local Kobold" not in listed.content


def test_deleting_a_connection(client, user):
    connection = connection_save(owner=user, connection=None, data=_connection_data(), api_key=API_KEY)
    client.force_login(user)

    response = client.post(reverse("chats:connection_delete", args=[connection.pk]))

    assert response.status_code == 302
    assert not ModelConnection.objects.exists()


def test_the_connection_list_offers_a_test_button(client, user):
    connection = connection_save(owner=user, connection=None, data=_connection_data(), api_key=API_KEY)
    client.force_login(user)

    response = client.get(reverse("chats:connections"))

    assert (
        f'data-test-url="{reverse("api:connection_test", args=[connection.pk])}"'.encode() in response.content
    )


# ---------------------------------------------------------------- presets


def test_a_preset_is_made_and_edited(client, user):
    client.force_login(user)

    created = client.post(
        reverse("chats:preset_new"),
        {"name": "Creative", "temperature": "1.1", "top_p": "0.9", "stop": "\nUser:\n\n###"},
    )
    preset = Preset.objects.get(owner=user)
    edited = client.post(reverse("chats:preset", args=[preset.pk]), {"name": "Calm", "temperature": "0.5"})

    preset.refresh_from_db()
    assert (created.status_code, edited.status_code) == (302, 302)
    assert (preset.name, preset.temperature, preset.top_p, preset.stop) == ("Calm", 0.5, None, [])


def test_preset_values_are_checked(client, user):
    client.force_login(user)

    response = client.post(reverse("chats:preset_new"), {"name": "Hot", "temperature": "9"})

    assert response.status_code == 200
    assert "temperature" in response.context["form"].errors


def test_a_sillytavern_preset_is_imported(client, user):
    client.force_login(user)
    preset_json = {"temperature": 0.7, "top_p": 0.95, "openai_max_tokens": 300, "seed": -1}
    upload = SimpleUploadedFile("Default.json", json.dumps(preset_json).encode())

    response = client.post(reverse("chats:presets"), {"file": upload, "name": ""})

    preset = Preset.objects.get(owner=user)
    assert response.status_code == 302
    assert (preset.name, preset.temperature, preset.top_p, preset.seed) == ("Default", 0.7, 0.95, None)
    assert preset.source == preset_json


def test_a_preset_file_that_is_not_json_is_refused(client, user):
    client.force_login(user)

    response = client.post(
        reverse("chats:presets"), {"file": SimpleUploadedFile("x.json", b"nope"), "name": ""}
    )

    assert response.status_code == 200
    assert response.context["import_form"].errors["file"][0].startswith("Not a JSON preset")
    assert not Preset.objects.exists()


def test_another_users_preset_is_404(client, user, other_user):
    preset = preset_save(owner=other_user, preset=None, data={"name": "Theirs"})
    client.force_login(user)

    edit = client.get(reverse("chats:preset", args=[preset.pk]))
    delete = client.post(reverse("chats:preset_delete", args=[preset.pk]))

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert Preset.objects.filter(pk=preset.pk).exists()


# ---------------------------------------------------------------- usage


def test_usage_is_summed_by_day_with_cost_in_dollars(client, user, other_user):
    for tokens_in, cost in ((100, 1_234_567), (50, 1_000)):
        UsageRecord.objects.create(user=user, tokens_in=tokens_in, tokens_out=10, cost_micro_usd=cost)
    UsageRecord.objects.create(user=other_user, tokens_in=999, tokens_out=999, cost_micro_usd=999)
    client.force_login(user)

    response = client.get(reverse("chats:usage"))

    [day] = response.context["days"]
    assert (day["generations"], day["tokens_in"], day["tokens_out"]) == (2, 150, 20)
    assert b"$1.2356" in response.content


def test_a_shared_connection_is_listed_without_its_address_or_key(client, user):
    connection_save(
        owner=None,
        connection=None,
        data={
            "name": "House",
            "base_url": "http://10.0.0.7:8080/internal-proxy/v1",
            "model": "house-model",
            "allowed_tiers": ["free"],
        },
        api_key="sk-house-0123456789WXYZ",
    )
    client.force_login(user)

    response = client.get(reverse("chats:connections"))

    assert b"House" in response.content
    assert b"house-model" in response.content
    assert b"internal-proxy" not in response.content
    assert "…WXYZ".encode() not in response.content
