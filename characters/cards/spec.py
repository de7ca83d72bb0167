"""Character cards: one typed value read from V1, V2 and V3 JSON, written as V2 or V3.

Reading is lenient (nulls, numbers as strings, missing lists, keys outside the
spec are kept); writing is strict (every required spec field, nothing
invented). ``card_from_v3(card_to_v3_dict(card)) == card`` for every card.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from characters.cards.errors import CardError
from characters.cards.field_readers import (
    JsonObject,
    read_object,
    read_optional_int,
    read_text,
    read_text_list,
    read_text_map,
)
from characters.cards.lorebook import Lorebook, lorebook_from_book, lorebook_to_book

SpecVersion = Literal["v1", "v2", "v3"]

V2_SPEC = "chara_card_v2"
V3_SPEC = "chara_card_v3"


@dataclass(kw_only=True)
class CardData:
    name: str = ""
    nickname: str = ""
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    alternate_greetings: list[str] = field(default_factory=list)
    group_only_greetings: list[str] = field(default_factory=list)
    system_prompt: str = ""
    post_history_instructions: str = ""
    creator_notes: str = ""
    creator_notes_multilingual: dict[str, str] = field(default_factory=dict)
    creator: str = ""
    character_version: str = ""
    tags: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    creation_date: int | None = None
    modification_date: int | None = None
    extensions: JsonObject = field(default_factory=dict)
    # Each asset is {type, uri, name, ext} plus any keys it came with. An empty
    # list means the spec's default (the card's own image as the main icon).
    assets: list[JsonObject] = field(default_factory=list)
    character_book: Lorebook | None = None
    # Keys of ``data`` that no spec version defines, written back on export.
    extra: JsonObject = field(default_factory=dict)


V1_TEXT_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
_TEXT_FIELDS = (
    *V1_TEXT_FIELDS,
    "nickname",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
    "creator",
    "character_version",
)
_GREETING_FIELDS = ("alternate_greetings", "group_only_greetings")
_KNOWN_DATA_KEYS = frozenset(
    (
        *_TEXT_FIELDS,
        *_GREETING_FIELDS,
        "tags",
        "source",
        "creator_notes_multilingual",
        "creation_date",
        "modification_date",
        "extensions",
        "assets",
        "character_book",
    )
)
# Pygmalion / gradio flat cards, which SillyTavern also imports.
_GRADIO_FIELDS = {
    "char_name": "name",
    "char_persona": "description",
    "world_scenario": "scenario",
    "char_greeting": "first_mes",
    "example_dialogue": "mes_example",
}
# Per-install bookkeeping SillyTavern writes next to V1 fields; not card data.
_ST_BOOKKEEPING = frozenset(("avatar", "chat", "create_date", "json_data", "spec", "spec_version"))


def _read_asset(value: object, path: str) -> JsonObject:
    if value is None:
        raise CardError(f"{path}: expected an object, got null")
    asset = read_object(value, path)
    return {
        **asset,
        "type": read_text(asset.get("type"), f"{path}.type"),
        "uri": read_text(asset.get("uri"), f"{path}.uri"),
        "name": read_text(asset.get("name"), f"{path}.name"),
        "ext": read_text(asset.get("ext"), f"{path}.ext", default="unknown"),
    }


def _read_assets(value: object, path: str) -> list[JsonObject]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CardError(f"{path}: expected an array of assets")
    return [_read_asset(item, f"{path}[{index}]") for index, item in enumerate(value)]


def card_from_data(data: JsonObject, path: str = "data") -> CardData:
    """Read the ``data`` object of a V2/V3 card (V3 fields are read from V2 cards too)."""
    values: dict[str, Any] = {name: read_text(data.get(name), f"{path}.{name}") for name in _TEXT_FIELDS}
    for name in _GREETING_FIELDS:
        values[name] = read_text_list(data.get(name), f"{path}.{name}", split_commas=False)
    book = data.get("character_book")
    return CardData(
        **values,
        tags=read_text_list(data.get("tags"), f"{path}.tags"),
        source=read_text_list(data.get("source"), f"{path}.source", split_commas=False),
        creator_notes_multilingual=read_text_map(
            data.get("creator_notes_multilingual"), f"{path}.creator_notes_multilingual"
        ),
        creation_date=read_optional_int(data.get("creation_date"), f"{path}.creation_date", truncate=True),
        modification_date=read_optional_int(
            data.get("modification_date"), f"{path}.modification_date", truncate=True
        ),
        extensions=read_object(data.get("extensions"), f"{path}.extensions"),
        assets=_read_assets(data.get("assets"), f"{path}.assets"),
        character_book=None if book is None else lorebook_from_book(book, f"{path}.character_book"),
        extra={key: value for key, value in data.items() if key not in _KNOWN_DATA_KEYS},
    )


def _card_from_v1(obj: JsonObject) -> CardData:
    flat = dict(obj)
    for gradio_key, key in _GRADIO_FIELDS.items():
        if gradio_key in flat and key not in flat:
            flat[key] = flat.pop(gradio_key)
    extensions = dict(read_object(flat.pop("extensions", None), "card.extensions"))
    # SillyTavern's V1 cards carry these as top-level fields; V2 moved them to extensions.
    for key in ("talkativeness", "fav"):
        if key in flat:
            extensions.setdefault(key, flat.pop(key))
    if "creatorcomment" in flat and "creator_notes" not in flat:
        flat["creator_notes"] = flat.pop("creatorcomment")
    for key in _ST_BOOKKEEPING:
        flat.pop(key, None)
    flat["extensions"] = extensions
    return card_from_data(flat, path="card")


def _spec_version_of(obj: JsonObject) -> SpecVersion:
    spec = obj.get("spec")
    if spec == V3_SPEC:
        return "v3"
    if spec == V2_SPEC:
        return "v2"
    try:
        number = float(str(obj.get("spec_version", "")).strip() or "0")
    except ValueError:
        number = 0.0
    return "v3" if number >= 3 else "v2"


def card_from_json(obj: object) -> tuple[CardData, SpecVersion]:
    """Read a decoded card JSON object of any spec version."""
    if not isinstance(obj, dict):
        raise CardError("card: expected a JSON object")
    data = obj.get("data")
    if isinstance(data, dict):
        merged = dict(data)
        # SillyTavern mirrors V1 fields at the top; use them only where data lacks the key.
        for key in V1_TEXT_FIELDS:
            if key not in merged and key in obj:
                merged[key] = obj[key]
        return card_from_data(merged), _spec_version_of(obj)
    if data is not None:
        raise CardError("data: expected an object")
    if "name" in obj or "char_name" in obj:
        return _card_from_v1(obj), "v1"
    raise CardError("card: not a character card (no 'data' object and no 'name')")


def _v2_data(card: CardData) -> JsonObject:
    data: JsonObject = {
        "name": card.name,
        "description": card.description,
        "personality": card.personality,
        "scenario": card.scenario,
        "first_mes": card.first_mes,
        "mes_example": card.mes_example,
        "creator_notes": card.creator_notes,
        "system_prompt": card.system_prompt,
        "post_history_instructions": card.post_history_instructions,
        "alternate_greetings": list(card.alternate_greetings),
        "tags": list(card.tags),
        "creator": card.creator,
        "character_version": card.character_version,
        "extensions": dict(card.extensions),
    }
    if card.character_book is not None:
        data["character_book"] = lorebook_to_book(card.character_book)
    return data


def _with_extra(data: JsonObject, extra: JsonObject) -> JsonObject:
    return {**data, **{key: value for key, value in extra.items() if key not in _KNOWN_DATA_KEYS}}


def card_to_v2_dict(card: CardData) -> JsonObject:
    """Character Card V2 JSON; V3-only fields (nickname, assets, ...) are left out."""
    return {"spec": V2_SPEC, "spec_version": "2.0", "data": _with_extra(_v2_data(card), card.extra)}


def card_to_v3_dict(card: CardData) -> JsonObject:
    """Character Card V3 JSON; optional fields are written only when set."""
    data = _v2_data(card)
    data["group_only_greetings"] = list(card.group_only_greetings)
    if card.nickname:
        data["nickname"] = card.nickname
    if card.creator_notes_multilingual:
        data["creator_notes_multilingual"] = dict(card.creator_notes_multilingual)
    if card.source:
        data["source"] = list(card.source)
    if card.creation_date is not None:
        data["creation_date"] = card.creation_date
    if card.modification_date is not None:
        data["modification_date"] = card.modification_date
    if card.assets:
        data["assets"] = [dict(asset) for asset in card.assets]
    return {"spec": V3_SPEC, "spec_version": "3.0", "data": _with_extra(data, card.extra)}
