"""Personas through the API: CRUD, one default, an optional avatar; refused to another user."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from characters.models import Persona
from characters.services import persona_save

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _image(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, format=fmt)
    return out.getvalue()


def _persona(owner, name: str = "Wanderer", **data):  # type: ignore[no-untyped-def]
    return persona_save(owner=owner, persona=None, data={"name": name, **data})


def test_create_a_persona(user_client, user):
    payload = {
        "name": "Wanderer",
        "description": "A traveller with a lantern.",
        "description_position": "at_depth",
        "depth": 4,
        "role": "user",
    }

    response = user_client.post(reverse("api:personas"), payload)

    assert response.status_code == 201
    persona = Persona.objects.get(pk=response.json()["id"])
    assert persona.owner == user
    assert {name: response.json()[name] for name in payload} == payload
    assert response.json()["is_default"] is True  # the first persona is the default
    assert response.json()["avatar"] is None


def test_create_with_an_avatar_upload(user_client, user):
    response = user_client.post(
        reverse("api:personas"),
        {"name": "Painter", "avatar": SimpleUploadedFile("me.jpg", _image("JPEG"))},
        format="multipart",
    )

    assert response.status_code == 201
    persona = Persona.objects.get(pk=response.json()["id"])
    assert response.json()["avatar"] == persona.avatar.url
    with persona.avatar.open("rb") as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("PNG", (8, 8))


def test_a_new_default_replaces_the_old_one(user_client, user):
    first = _persona(user, "First")

    response = user_client.post(reverse("api:personas"), {"name": "Second", "is_default": True})

    first.refresh_from_db()
    assert response.json()["is_default"] is True
    assert first.is_default is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"description": "no name"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Ok", "role": "narrator"}, "role"),
        ({"name": "Ok", "description_position": "somewhere"}, "description_position"),
        ({"name": "Ok", "depth": -1}, "depth"),
    ],
    ids=["empty-name", "missing-name", "long-name", "bad-role", "bad-description-position", "negative-depth"],
)
def test_create_refuses_bad_input_naming_the_field(user_client, payload, field):
    response = user_client.post(reverse("api:personas"), payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Persona.objects.count() == 0


def test_an_avatar_that_is_not_an_image_is_refused_naming_the_field(user_client):
    response = user_client.post(
        reverse("api:personas"),
        {"name": "Painter", "avatar": SimpleUploadedFile("me.png", b"not an image at all")},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["avatar"]
    assert Persona.objects.count() == 0


@override_settings(AVATAR_MAX_BYTES=1024)
def test_an_oversize_avatar_is_refused_naming_the_field(user_client):
    response = user_client.post(
        reverse("api:personas"),
        {"name": "Painter", "avatar": SimpleUploadedFile("me.png", _image() + b"\0" * 1024)},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "avatar": ["The avatar is larger than the limit of 1.0\xa0KB."]
    }
    assert Persona.objects.count() == 0


def test_list_shows_my_personas_default_first(user_client, user, other_user):
    _persona(user, "Alpha")
    default = _persona(user, "Zed", is_default=True)
    _persona(other_user, "Theirs")

    response = user_client.get(reverse("api:personas"))

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["results"]] == ["Zed", "Alpha"]
    assert response.json()["results"][0]["id"] == default.pk


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_list_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, user, page_size, django_assert_num_queries
):
    for index in range(21):
        _persona(user, f"Persona {index:02}")

    # JWT user lookup, the count, the page.
    with django_assert_num_queries(3):
        response = user_client.get(reverse("api:personas"), {"page_size": page_size})

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size


def test_read_update_and_delete_a_persona(user_client, user):
    default = _persona(user, "Default")
    other = _persona(user, "Other")
    url = reverse("api:persona", args=[default.pk])

    read = user_client.get(url)
    updated = user_client.patch(url, {"description": "Now with a hat.", "depth": 1})
    deleted = user_client.delete(url)

    assert read.status_code == 200
    assert read.json()["name"] == "Default"
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["description"], updated.json()["depth"]) == (
        "Default",
        "Now with a hat.",
        1,
    )
    assert deleted.status_code == 204
    other.refresh_from_db()
    assert other.is_default is True  # the default passed on


def test_update_the_avatar_with_multipart(user_client, user):
    persona = _persona(user)

    response = user_client.patch(
        reverse("api:persona", args=[persona.pk]),
        {"avatar": SimpleUploadedFile("me.png", _image())},
        format="multipart",
    )

    assert response.status_code == 200
    persona.refresh_from_db()
    assert response.json()["avatar"] == persona.avatar.url
    assert response.json()["name"] == "Wanderer"


def test_update_refuses_an_empty_name(user_client, user):
    persona = _persona(user)

    response = user_client.patch(reverse("api:persona", args=[persona.pk]), {"name": ""})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field may not be blank."]}


def test_another_user_cannot_read_change_or_delete_my_persona(api_client, user, other_user):
    persona = _persona(user)
    api_client.force_authenticate(other_user)
    url = reverse("api:persona", args=[persona.pk])

    responses = [api_client.get(url), api_client.patch(url, {"name": "Mine"}), api_client.delete(url)]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert responses[0].json() == {"error": {"code": "not_found", "message": "Not found."}}
    persona.refresh_from_db()
    assert persona.name == "Wanderer"


def test_personas_need_a_login(api_client, user):
    persona = _persona(user)

    assert api_client.get(reverse("api:personas")).status_code == 401
    assert api_client.get(reverse("api:persona", args=[persona.pk])).status_code == 401
