"""The lorebook value: a book of entries carrying every SillyTavern world-info field."""

from dataclasses import dataclass, field
from enum import StrEnum

from characters.cards.field_readers import JsonObject


class Position(StrEnum):
    """Where an activated entry goes in the prompt (SillyTavern numbers 0..7)."""

    BEFORE_CHAR = "before_char"
    AFTER_CHAR = "after_char"
    AN_TOP = "an_top"
    AN_BOTTOM = "an_bottom"
    AT_DEPTH = "at_depth"
    EM_TOP = "em_top"
    EM_BOTTOM = "em_bottom"
    OUTLET = "outlet"


class SelectiveLogic(StrEnum):
    """How secondary keys combine with the primary match (SillyTavern 0..3)."""

    AND_ANY = "and_any"
    NOT_ALL = "not_all"
    NOT_ANY = "not_any"
    AND_ALL = "and_all"


class Role(StrEnum):
    """Message role of an at-depth insertion (SillyTavern 0..2)."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


# SillyTavern's numbers are the declaration order above.
POSITION_NUMBERS = {position: number for number, position in enumerate(Position)}
SELECTIVE_LOGIC_NUMBERS = {logic: number for number, logic in enumerate(SelectiveLogic)}
ROLE_NUMBERS = {role: number for number, role in enumerate(Role)}


@dataclass(kw_only=True)
class LorebookEntry:
    uid: int | str | None = None  # world "uid", character_book "id"
    keys: list[str] = field(default_factory=list)
    secondary_keys: list[str] = field(default_factory=list)
    comment: str = ""
    content: str = ""
    constant: bool = False
    vectorized: bool = False
    selective: bool = True
    selective_logic: SelectiveLogic = SelectiveLogic.AND_ANY
    order: int = 100  # character_book "insertion_order"
    position: Position = Position.BEFORE_CHAR
    disabled: bool = False  # character_book "enabled", inverted
    exclude_recursion: bool = False
    prevent_recursion: bool = False
    delay_until_recursion: bool | int = False  # True, or the recursion level to wait for
    probability: int = 100
    use_probability: bool = True
    depth: int = 4
    outlet_name: str = ""
    group: str = ""
    group_override: bool = False
    group_weight: int = 100
    scan_depth: int | None = None  # None: the global setting
    case_sensitive: bool | None = None
    match_whole_words: bool | None = None
    use_group_scoring: bool | None = None
    automation_id: str = ""
    role: Role = Role.SYSTEM
    sticky: int | None = None
    cooldown: int | None = None
    delay: int | None = None
    display_index: int | None = None
    match_persona_description: bool = False
    match_character_description: bool = False
    match_character_personality: bool = False
    match_character_depth_prompt: bool = False
    match_scenario: bool = False
    match_creator_notes: bool = False
    ignore_budget: bool = False
    triggers: list[str] = field(default_factory=list)
    # Character-book-only fields (V2 optional, V3 use_regex); not in SillyTavern world files.
    name: str = ""
    priority: int | None = None
    use_regex: bool = False
    # Fields neither format defines, written back where the format keeps unknown data.
    extra: JsonObject = field(default_factory=dict)


@dataclass(kw_only=True)
class Lorebook:
    name: str = ""
    description: str = ""
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive_scanning: bool | None = None
    extensions: JsonObject = field(default_factory=dict)
    entries: list[LorebookEntry] = field(default_factory=list)
    extra: JsonObject = field(default_factory=dict)
