"""Writes for generation presets, including SillyTavern preset files."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import User
from tavern.ai.presets import PresetError, generation_params_from_sillytavern

from ..limits import PRESET_MAX_BYTES, preset_refusal
from ..models import Preset
from .errors import ChatError


def preset_save(
    *, owner: User, preset: Preset | None, data: dict[str, Any], field: str | None = None
) -> Preset:
    """`field`: the input to name when a setting is refused (the uploaded file, for an import)."""
    refused_field, message = preset_refusal(data)
    if message:
        raise ChatError(message, field=field or refused_field)
    preset = preset or Preset(owner=owner)
    for name, value in data.items():
        setattr(preset, name, value)
    try:
        preset.full_clean()
    except ValidationError as error:
        if field is None:
            raise
        name, messages = next(iter(error.message_dict.items()))
        raise ChatError(f"{name}: {messages[0]}", field=field) from error
    preset.save()
    return preset


def preset_import_file(*, owner: User, name: str, data: bytes) -> Preset:
    """A SillyTavern preset file (JSON) becomes a preset, within the editor's limits."""
    if len(data) > PRESET_MAX_BYTES:
        raise ChatError(f"A preset file is at most {PRESET_MAX_BYTES // (1024 * 1024)} MB.", field="file")
    try:
        preset_json = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChatError(f"Not a JSON preset: {error}", field="file") from error
    if not isinstance(preset_json, dict):
        raise ChatError("A preset is a JSON object.", field="file")
    return preset_import_sillytavern(owner=owner, name=name, preset_json=preset_json)


def preset_import_sillytavern(*, owner: User, name: str, preset_json: dict[str, Any]) -> Preset:
    try:
        params = generation_params_from_sillytavern(preset_json)
    except PresetError as error:
        raise ChatError(str(error), field="file") from error
    data = {name_: getattr(params, name_) for name_ in Preset.NUMBERS}
    data["stop"] = list(params.stop or [])
    return preset_save(
        owner=owner,
        preset=None,
        data={"name": name[:100] or "Imported preset", "source": preset_json, **data},
        field="file",
    )
