"""Forms of the chat and settings pages: they parse and validate input; the services
do the work. Choices come from the selectors, so a form never offers what the user
may not use."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat

from chats.limits import (
    MAX_PARTICIPANTS,
    PRESET_MAX_BYTES,
    PRESET_MAX_STOP_STRINGS,
    PRESET_RANGES,
    chat_import_max_bytes,
)
from chats.models import Preset
from tavern.outbound import validate_outbound_url

OFFLINE_DEMO_LABEL = "Offline demo (canned replies, no model)"


class ChatNewForm(forms.Form):
    characters = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Characters",
        help_text="One for a chat, several for a group chat.",
        widget=forms.CheckboxSelectMultiple,
    )
    persona = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="You play as")
    connection = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Model connection"
    )
    title = forms.CharField(max_length=200, required=False, help_text="Blank: the characters' names.")

    def __init__(
        self,
        *args: Any,
        characters: list[tuple[int, str]],
        personas: list[tuple[int, str]],
        connections: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["characters"].choices = characters
        self.fields["persona"].choices = [("", "My default persona"), *personas]
        self.fields["connection"].choices = [("", OFFLINE_DEMO_LABEL), *connections]

    def clean_characters(self) -> list[int]:
        chosen = self.cleaned_data["characters"]
        if len(chosen) > MAX_PARTICIPANTS:
            raise forms.ValidationError(f"A chat can have at most {MAX_PARTICIPANTS} characters.")
        return chosen


class ChatImportForm(forms.Form):
    file = forms.FileField(
        label="SillyTavern chat (.jsonl)",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonl,.json,application/jsonl,application/json"}),
    )
    # Any id is accepted here; the view opens it through the selector (404 if not visible).
    character = forms.IntegerField(
        required=False,
        label="Character",
        help_text="For a solo chat whose character is not found by name among yours.",
        widget=forms.Select,
    )

    def __init__(self, *args: Any, characters: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["character"].widget.choices = [("", "Find by name"), *characters]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = chat_import_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"The chat file is larger than the limit of {filesizeformat(limit)}.")
        return upload


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=100)
    base_url = forms.URLField(
        max_length=500,
        label="Base URL",
        help_text="An OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://127.0.0.1:5001/v1.",
        assume_scheme="https",
        validators=[validate_outbound_url],
    )
    model = forms.CharField(max_length=200)
    api_key = forms.CharField(
        max_length=500,
        required=False,
        label="API key",
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    remove_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    context_size = forms.IntegerField(min_value=512, max_value=2_000_000, initial=8192, label="Context size")
    max_reply_tokens = forms.IntegerField(
        min_value=16, max_value=200_000, initial=512, label="Max reply tokens"
    )
    extra_headers = forms.CharField(
        required=False,
        label="Extra headers (JSON)",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text='A JSON object of header names to values, e.g. {"HTTP-Referer": "https://example.com"}.',
    )

    def __init__(self, *args: Any, key_hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if key_hint:
            self.fields["api_key"].help_text = f"A key is stored ({key_hint}). Leave blank to keep it."
        else:
            self.fields["api_key"].help_text = "Stored encrypted; never shown again."
            del self.fields["remove_api_key"]

    def clean_extra_headers(self) -> dict[str, str]:
        raw = self.cleaned_data["extra_headers"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}).") from error
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 500 for k, v in value.items()
        ):
            raise forms.ValidationError("A JSON object whose values are text (at most 500 characters).")
        if len(value) > 20:
            raise forms.ValidationError("At most 20 headers.")
        return value

    def service_data(self) -> tuple[dict[str, Any], str | None]:
        """(fields for connection_save, api_key: None keeps the stored one, "" removes it)."""
        data = {
            name: self.cleaned_data[name]
            for name in ("name", "base_url", "model", "context_size", "max_reply_tokens", "extra_headers")
        }
        api_key: str | None = self.cleaned_data["api_key"] or None
        if api_key is None and self.cleaned_data.get("remove_api_key"):
            api_key = ""
        return data, api_key


def _range(name: str) -> dict[str, Any]:  # keyword arguments of a form field
    lowest, highest = PRESET_RANGES[name]
    return {"min_value": lowest, "max_value": highest}


class PresetForm(forms.Form):
    name = forms.CharField(max_length=100)
    temperature = forms.FloatField(required=False, **_range("temperature"))
    top_p = forms.FloatField(required=False, label="Top P", **_range("top_p"))
    top_k = forms.IntegerField(required=False, label="Top K", **_range("top_k"))
    min_p = forms.FloatField(required=False, label="Min P", **_range("min_p"))
    frequency_penalty = forms.FloatField(required=False, **_range("frequency_penalty"))
    presence_penalty = forms.FloatField(required=False, **_range("presence_penalty"))
    repetition_penalty = forms.FloatField(required=False, **_range("repetition_penalty"))
    max_tokens = forms.IntegerField(required=False, label="Max reply tokens", **_range("max_tokens"))
    seed = forms.IntegerField(required=False, **_range("seed"))
    stop = forms.CharField(
        required=False,
        label="Stop strings",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One a line; at most {PRESET_MAX_STOP_STRINGS}.",
    )

    NUMBERS = Preset.NUMBERS

    @classmethod
    def initial_for(cls, preset: Any) -> dict[str, Any]:
        initial = {name: getattr(preset, name) for name in ("name", *cls.NUMBERS)}
        initial["stop"] = "\n".join(preset.stop or [])
        return initial

    def clean_stop(self) -> list[str]:
        lines = [line for line in self.cleaned_data["stop"].splitlines() if line.strip()]
        if len(lines) > PRESET_MAX_STOP_STRINGS:
            raise forms.ValidationError(f"At most {PRESET_MAX_STOP_STRINGS} stop strings.")
        return lines

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("name", "stop", *self.NUMBERS)}


class PresetImportForm(forms.Form):
    file = forms.FileField(
        label="SillyTavern preset (.json)",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    name = forms.CharField(max_length=100, required=False, help_text="Blank: the file's name.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > PRESET_MAX_BYTES:
            raise forms.ValidationError(f"A preset file is at most {PRESET_MAX_BYTES // (1024 * 1024)} MB.")
        return upload
