"""What one activation reads: the books, the chat, the global settings, the extra texts."""

from __future__ import annotations

from dataclasses import dataclass

from characters.cards.lorebook.book import Lorebook

BookId = int | str


@dataclass(frozen=True)
class BookInput:
    """A lorebook taking part in the scan; `id` names it in the report and the timed-effects state."""

    id: BookId
    book: Lorebook


@dataclass(frozen=True)
class ScanMessage:
    """One chat message, as the scan sees it (history is passed oldest first)."""

    name: str
    text: str
    is_user: bool = False


@dataclass(frozen=True)
class ScanExtras:
    """Texts outside the chat; an entry scans one only when its matching `match_*` flag is set."""

    persona_description: str = ""
    character_description: str = ""
    character_personality: str = ""
    character_depth_prompt: str = ""
    scenario: str = ""
    creator_notes: str = ""


@dataclass(frozen=True)
class ActivationSettings:
    """SillyTavern's global world-info settings, with its defaults (recursion on, as Tavern wants)."""

    scan_depth: int = 2
    context_tokens: int = 8192
    budget_percent: int = 25
    budget_cap: int = 0  # 0: no cap
    include_names: bool = True
    recursive: bool = True
    max_recursion_steps: int = 0  # passes in all, the first included; 0: until nothing new activates
    case_sensitive: bool = False
    match_whole_words: bool = False
    use_group_scoring: bool = False
    min_activations: int = 0
    min_activations_depth_max: int = 0  # 0: up to the whole history
    overflow_alert: bool = False
