"""Writes for personas: who the user is in a chat; one of them is the default."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User

from ..models import Persona
from .characters import _avatar_png


@transaction.atomic
def persona_save(
    *, owner: User, persona: Persona | None, data: dict[str, Any], avatar_png: bytes | None = None
) -> Persona:
    persona = persona or Persona(owner=owner)
    for name, value in data.items():
        setattr(persona, name, value)
    if avatar_png is not None:
        image = _avatar_png(avatar_png, field="avatar")
        persona.avatar.save(f"{hashlib.sha256(image).hexdigest()[:16]}.png", ContentFile(image), save=False)
    if persona.is_default:
        Persona.objects.filter(owner=owner, is_default=True).exclude(pk=persona.pk).update(is_default=False)
    elif not Persona.objects.filter(owner=owner).exclude(pk=persona.pk).exists():
        persona.is_default = True  # the first persona is the default
    persona.full_clean(exclude=["avatar"])
    persona.save()
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona) -> None:
    was_default = persona.is_default
    owner = persona.owner
    persona.delete()
    if was_default:
        successor = Persona.objects.filter(owner=owner).order_by("name", "id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
