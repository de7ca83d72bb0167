"""Forms of the character, lorebook and persona pages: they parse and validate input;
the services do the work."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.conf import settings

from characters.cards import CardData, Position, Role, SelectiveLogic
from characters.selectors import SearchFilters

from .limits import ENTRY_COMMENT_MAX_CHARS
from .models import DescriptionPosition, Visibility

ROLE_CHOICES = [(Role.SYSTEM.value, "System"), (Role.USER.value, "User"), (Role.ASSISTANT.value, "Assistant")]
POSITION_CHOICES = [
    (Position.BEFORE_CHAR.value, "Before character"),
    (Position.AFTER_CHAR.value, "After character"),
    (Position.AN_TOP.value, "Author's note: top"),
    (Position.AN_BOTTOM.value, "Author's note: bottom"),
    (Position.AT_DEPTH.value, "At a depth in the chat"),
    (Position.EM_TOP.value, "Before examples"),
    (Position.EM_BOTTOM.value, "After examples"),
    (Position.OUTLET.value, "Outlet (for a macro)"),
]
POSITION_SHORT_LABELS = {
    Position.BEFORE_CHAR.value: "Before char",
    Position.AFTER_CHAR.value: "After char",
    Position.AN_TOP.value: "AN top",
    Position.AN_BOTTOM.value: "AN bottom",
    Position.AT_DEPTH.value: "At depth",
    Position.EM_TOP.value: "Before examples",
    Position.EM_BOTTOM.value: "After examples",
    Position.OUTLET.value: "Outlet",
}
SELECTIVE_LOGIC_CHOICES = [
    (SelectiveLogic.AND_ANY.value, "AND ANY secondary key"),
    (SelectiveLogic.AND_ALL.value, "AND ALL secondary keys"),
    (SelectiveLogic.NOT_ANY.value, "NOT ANY secondary key"),
    (SelectiveLogic.NOT_ALL.value, "NOT ALL secondary keys"),
]
SORT_CHOICES = [
    ("popular", "Popular"),
    ("new", "New"),
    ("top_rated", "Top rated"),
    ("trending", "Trending"),
    ("relevance", "Best match"),
]
MODE_CHOICES = [("text", "Words"), ("meaning", "Meaning")]

# Card fields edited as text, in the order the form shows them.
CARD_TEXT_FIELDS = (
    "name",
    "nickname",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
    "creator",
    "character_version",
)
CARD_LIST_FIELDS = ("alternate_greetings", "group_only_greetings")
SETTINGS_FIELDS = ("visibility", "is_nsfw", "language")


def _newlines(text: str) -> str:
    """Browsers send textarea line breaks as CRLF; cards keep LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unless_only_newlines_differ(edited: Any, original: Any) -> Any:
    """The card's own text when the edit differs from it only in line endings.

    Cards written on Windows carry CRLF; the form hands back LF, and saving a field
    nobody touched must not make a new version."""
    if isinstance(edited, list):
        same = isinstance(original, list) and [_newlines(item) for item in original] == edited
    else:
        same = isinstance(original, str) and _newlines(original) == edited
    return original if same else edited


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class CardTextField(forms.CharField):
    """Card text kept as written (no stripping), with LF line breaks."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return _newlines(super().to_python(value))


class CommaListField(forms.CharField):
    """ "a, b, c" in the form, ["a", "b", "c"] in cleaned_data."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return comma_list(super().to_python(value))


class TextListWidget(forms.Widget):
    """Several inputs of one name (one textarea per greeting); rendered by the page template."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        return data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # no textarea at all means "no greetings"


class TextListField(forms.Field):
    widget = TextListWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value] if value else []
        return [_newlines(str(item)) for item in items if str(item).strip()]

    def prepare_value(self, value: Any) -> list[str]:
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]


def _avatar_checked(avatar: Any) -> Any:
    if avatar and hasattr(avatar, "size") and avatar.size > settings.AVATAR_MAX_BYTES:
        raise forms.ValidationError(f"The avatar is larger than {settings.AVATAR_MAX_BYTES // 1024} KB.")
    return avatar


def _textarea(rows: int = 6, *, tokens: bool = True) -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows}
    if tokens:
        attrs["data-token-count"] = ""
    return forms.Textarea(attrs=attrs)


# ---------------------------------------------------------------- browse


class BrowseForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, tag, description…"}),
    )
    mode = forms.ChoiceField(
        choices=MODE_CHOICES,
        required=False,
        label="Match by",
        widget=forms.RadioSelect(attrs={"data-autosubmit": ""}),
    )
    tags = CommaListField(
        max_length=400, label="Tags", widget=forms.TextInput(attrs={"placeholder": "fantasy, romance"})
    )
    creator = forms.CharField(required=False, max_length=150)
    sort = forms.ChoiceField(
        choices=SORT_CHOICES, required=False, label="Sort", widget=forms.Select(attrs={"data-autosubmit": ""})
    )

    def filters(self) -> SearchFilters:
        """The search asked for; an invalid value counts as not given."""
        self.is_valid()
        data = self.cleaned_data
        return SearchFilters(
            q=data.get("q", ""),
            mode=data.get("mode") or "text",
            tags=tuple(data.get("tags") or ()),
            creator=data.get("creator", ""),
            sort=data.get("sort", ""),
        )


# ---------------------------------------------------------------- characters


class CharacterForm(forms.Form):
    name = CardTextField(
        max_length=200, required=True, widget=forms.TextInput(attrs={"data-token-count": ""})
    )
    nickname = CardTextField(
        max_length=200, help_text="What the character is called in chats, if not the name."
    )
    description = CardTextField(widget=_textarea(10))
    personality = CardTextField(widget=_textarea(3), help_text="A short summary of the personality.")
    scenario = CardTextField(widget=_textarea(3))
    first_mes = CardTextField(label="Greeting", widget=_textarea(6))
    alternate_greetings = TextListField(label="Alternate greetings")
    group_only_greetings = TextListField(label="Group-only greetings")
    mes_example = CardTextField(
        label="Example dialogue",
        widget=_textarea(6),
        help_text="Start each example with <START>; use {{char}} and {{user}}.",
    )
    system_prompt = CardTextField(
        widget=_textarea(4), help_text="Replaces the main prompt; {{original}} keeps the default."
    )
    post_history_instructions = CardTextField(
        widget=_textarea(3), help_text="Sent after the chat history (a “jailbreak”)."
    )
    creator_notes = CardTextField(
        widget=_textarea(4, tokens=False), help_text="Shown to people browsing; never sent to the model."
    )
    creator = CardTextField(max_length=200)
    character_version = CardTextField(max_length=100)
    tags = CommaListField(max_length=2000, help_text="Separated by commas, e.g. fantasy, adventure.")
    visibility = forms.ChoiceField(choices=Visibility.choices)
    is_nsfw = forms.BooleanField(required=False, label="NSFW (adults only)")
    language = forms.CharField(max_length=16, initial="en", help_text="A language code: en, ja, zh-hans…")
    avatar = forms.ImageField(required=False, help_text="PNG, JPEG or WebP; portrait images (2:3) look best.")
    change_summary = forms.CharField(
        required=False, max_length=300, help_text="What you changed, for the version history."
    )

    @classmethod
    def initial_for(cls, card: CardData, *, visibility: str, is_nsfw: bool, language: str) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(card, name) for name in (*CARD_TEXT_FIELDS, *CARD_LIST_FIELDS)
        }
        initial.update(tags=list(card.tags), visibility=visibility, is_nsfw=is_nsfw, language=language)
        return initial

    def clean_avatar(self) -> Any:
        return _avatar_checked(self.cleaned_data.get("avatar"))

    def card(self, base: CardData) -> CardData:
        """`base` with the edited fields replaced; extensions, book and unknown fields kept."""
        data = self.cleaned_data
        return dataclasses.replace(
            base,
            **{
                name: _unless_only_newlines_differ(data[name], getattr(base, name))
                for name in (*CARD_TEXT_FIELDS, *CARD_LIST_FIELDS)
            },
            tags=data["tags"],
        )

    def settings_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}

    def avatar_bytes(self) -> bytes | None:
        avatar = self.cleaned_data.get("avatar")
        if not avatar:
            return None
        avatar.seek(0)
        return avatar.read()


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError("Choose at least one file.")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class CharacterImportForm(forms.Form):
    files = MultipleFileField(
        label="Card files",
        widget=MultipleFileInput(attrs={"accept": ".png,.json,.charx,image/png,application/json"}),
        help_text="PNG, JSON or CHARX cards (V1, V2, V3); several at once.",
    )


class VersionCompareForm(forms.Form):
    a = forms.TypedChoiceField(coerce=int, label="From")
    b = forms.TypedChoiceField(coerce=int, label="To")

    def __init__(self, *args: Any, numbers: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(number, f"v{number}") for number in numbers]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("a") is not None and data.get("a") == data.get("b"):
            raise forms.ValidationError("Choose two different versions.")
        return data


# ---------------------------------------------------------------- lorebooks


class UseGlobalSelect(forms.NullBooleanSelect):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", "Use the global setting"), ("true", "Yes"), ("false", "No")]


class LorebookCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LorebookImportForm(forms.Form):
    file = forms.FileField(
        label="SillyTavern world file",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    name = forms.CharField(required=False, max_length=200, help_text="Leave empty to keep the file's name.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.CARD_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {settings.CARD_MAX_BYTES // 1024} KB.")
        return upload


class LorebookForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scan_depth = forms.IntegerField(
        required=False, min_value=0, help_text="Messages scanned for keys; empty for the global setting."
    )
    token_budget = forms.IntegerField(required=False, min_value=0, help_text="Empty for the global setting.")
    recursive_scanning = forms.NullBooleanField(widget=UseGlobalSelect, label="Recursive scanning")
    is_global = forms.BooleanField(required=False, label="Global: active in all my chats")

    @classmethod
    def initial_for(cls, book: Any) -> dict[str, Any]:
        return {name: getattr(book, name) for name in cls.base_fields}


class LorebookEntryForm(forms.Form):
    comment = forms.CharField(required=False, max_length=ENTRY_COMMENT_MAX_CHARS, label="Title / memo")
    keys = CommaListField(label="Keys", help_text="Separated by commas; /regex/ works too.")
    secondary_keys = CommaListField(label="Secondary keys")
    selective_logic = forms.ChoiceField(choices=SELECTIVE_LOGIC_CHOICES, label="Secondary key logic")
    content = forms.CharField(required=False, strip=False, widget=_textarea(8))
    constant = forms.BooleanField(required=False, help_text="Always inserted, keys or not.")
    disabled = forms.BooleanField(required=False)
    position = forms.ChoiceField(choices=POSITION_CHOICES)
    depth = forms.IntegerField(min_value=0, max_value=10000, help_text="For “at a depth”.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, help_text="For “at a depth”.")
    outlet_name = forms.CharField(required=False, max_length=200, help_text="For “outlet”.")
    order = forms.IntegerField(label="Insertion order", help_text="Higher goes closer to the end.")
    probability = forms.IntegerField(min_value=0, max_value=100, label="Probability (%)")
    use_probability = forms.BooleanField(required=False, label="Use probability")
    scan_depth = forms.IntegerField(required=False, min_value=0, help_text="Empty for the book's setting.")
    case_sensitive = forms.NullBooleanField(widget=UseGlobalSelect)
    match_whole_words = forms.NullBooleanField(widget=UseGlobalSelect, label="Match whole words")
    group = forms.CharField(required=False, max_length=200, label="Inclusion group")
    group_weight = forms.IntegerField(min_value=0)
    group_override = forms.BooleanField(required=False, label="Prioritise in the group")
    prevent_recursion = forms.BooleanField(required=False, help_text="Its content does not trigger others.")
    exclude_recursion = forms.BooleanField(required=False, help_text="Not triggered by other entries.")
    ignore_budget = forms.BooleanField(required=False, label="Ignore the token budget")
    sticky = forms.IntegerField(required=False, min_value=0, help_text="Stays active for N messages.")
    cooldown = forms.IntegerField(required=False, min_value=0, help_text="Cannot activate for N messages.")
    delay = forms.IntegerField(required=False, min_value=0, help_text="Needs N messages in the chat.")

    @classmethod
    def initial_for(cls, entry: Any) -> dict[str, Any]:
        return {name: getattr(entry, name) for name in cls.base_fields}

    def clean_content(self) -> str:
        return _newlines(self.cleaned_data["content"])


# ---------------------------------------------------------------- personas


class PersonaForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Who you are, as the model reads it.",
    )
    avatar = forms.ImageField(required=False)
    is_default = forms.BooleanField(required=False, label="Default persona for new chats")
    description_position = forms.ChoiceField(choices=DescriptionPosition.choices)
    depth = forms.IntegerField(min_value=0, max_value=1000, initial=2, help_text="For “at a depth”.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, help_text="For “at a depth”.")

    FIELDS = ("name", "description", "is_default", "description_position", "depth", "role")

    @classmethod
    def initial_for(cls, persona: Any) -> dict[str, Any]:
        return {name: getattr(persona, name) for name in cls.FIELDS}

    def clean_avatar(self) -> Any:
        return _avatar_checked(self.cleaned_data.get("avatar"))

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}

    def avatar_bytes(self) -> bytes | None:
        avatar = self.cleaned_data.get("avatar")
        if not avatar:
            return None
        avatar.seek(0)
        return avatar.read()
