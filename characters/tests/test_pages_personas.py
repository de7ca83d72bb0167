"""Persona settings pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import default_avatar_png
from characters.models import Persona
from characters.services import persona_save

pytestmark = pytest.mark.django_db

PERSONAS = reverse("characters:personas")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _persona(owner, name="Wanderer", **data):  # type: ignore[no-untyped-def]
    return persona_save(owner=owner, persona=None, data={"name": name, **data})


def _data(**changes):  # type: ignore[no-untyped-def]
    data = {
        "name": "Wanderer",
        "description": "A tired traveller.",
        "description_position": "at_depth",
        "depth": "3",
        "role": "user",
    }
    data.update(changes)
    return data


def test_the_list_shows_my_personas_with_a_constant_number_of_queries(
    client, user, other_user, django_assert_num_queries
):
    _persona(user, "Wanderer")
    _persona(user, "Bard")
    _persona(other_user, "Not mine")
    client.force_login(user)

    # the session, the user, the personas
    with django_assert_num_queries(3):
        response = client.get(PERSONAS)

    assert [persona.name for persona in response.context["personas"]] == ["Wanderer", "Bard"]
    assert b"Not mine" not in response.content
    assert b'aria-current="page">Personas</a>' in response.content


def test_the_first_persona_is_created_as_the_default(client, user):
    client.force_login(user)
    avatar = SimpleUploadedFile("me.png", default_avatar_png("W"), content_type="image/png")

    response = client.post(reverse("characters:persona_new"), _data(avatar=avatar))

    assert response.url == PERSONAS
    persona = Persona.objects.get(owner=user)
    assert (persona.name, persona.is_default, persona.description_position, persona.depth, persona.role) == (
        "Wanderer",
        True,
        "at_depth",
        3,
        "user",
    )
    assert bool(persona.avatar) is True


def test_making_another_persona_the_default_moves_the_flag(client, user):
    first = _persona(user, "First")
    second = _persona(user, "Second")
    client.force_login(user)

    client.post(reverse("characters:persona", args=[second.pk]), _data(name="Second", is_default="on"))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_a_persona_is_deleted(client, user):
    persona = _persona(user)
    client.force_login(user)

    client.post(reverse("characters:persona_delete", args=[persona.pk]))

    assert Persona.objects.filter(owner=user).count() == 0


def test_another_user_gets_404_on_a_persona(client, user, other_user):
    persona = _persona(user)
    client.force_login(other_user)

    assert client.get(reverse("characters:persona", args=[persona.pk])).status_code == 404
    assert (
        client.post(reverse("characters:persona", args=[persona.pk]), _data(name="Mine")).status_code == 404
    )
    assert client.post(reverse("characters:persona_delete", args=[persona.pk])).status_code == 404
    persona.refresh_from_db()
    assert persona.name == "Wanderer"


def test_a_non_image_avatar_is_refused(client, user):
    client.force_login(user)
    fake = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")

    response = client.post(reverse("characters:persona_new"), _data(avatar=fake))

    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors
    assert Persona.objects.count() == 0


def test_the_settings_nav_links_to_personas(client, user):
    client.force_login(user)

    response = client.get(reverse("settings_profile"))

    assert PERSONAS.encode() in response.content
