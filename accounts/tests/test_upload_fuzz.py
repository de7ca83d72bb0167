"""A profile avatar upload is never a server error, whatever the file holds."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from PIL import Image

from tavern.testing.fuzz import UPLOAD_FUZZ, upload_bytes

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@UPLOAD_FUZZ
@given(content=upload_bytes(_png()))
def test_profile_avatar_upload(user, content):
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("settings_profile"),
        {"display_name": "Fuzz", "bio": "", "locale": "en", "avatar": SimpleUploadedFile("a.png", content)},
    )

    assert response.status_code in (200, 302)
