import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["settings_profile", "settings_content", "settings_api_keys"],
    ids=["profile", "content", "api-keys"],
)
def test_settings_pages_need_a_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_profile_is_saved(client, user):
    client.force_login(user)

    response = client.post(
        reverse("settings_profile"), {"display_name": "Bard", "bio": "Sings.", "locale": "en"}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.bio) == ("Bard", "Sings.")


def test_content_settings_refuse_nsfw_without_adult_birth_date(client, user):
    client.force_login(user)

    response = client.post(reverse("settings_content"), {"content_filter": "none", "show_nsfw": "on"})

    assert response.status_code == 200
    assert response.context["form"].errors["show_nsfw"][0].startswith("Only adults can turn on NSFW")
    user.refresh_from_db()
    assert (user.show_nsfw, user.content_filter) == (False, "moderate")


def test_avatar_must_be_an_image(client, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user)
    fake = SimpleUploadedFile("avatar.png", b"not an image", content_type="image/png")

    response = client.post(reverse("settings_profile"), {"display_name": "X", "locale": "en", "avatar": fake})

    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors


def test_public_profile_page_escapes_the_bio(client, user):
    user.bio = "<script>alert(1)</script>"
    user.save()

    response = client.get(reverse("profile", args=[user.username]))

    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content
