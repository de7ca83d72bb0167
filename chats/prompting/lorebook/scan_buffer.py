"""The scan buffer of one activation (SillyTavern's `WorldInfoBuffer`): chat, extra texts, recursion."""

from __future__ import annotations

from collections.abc import Sequence

from chats.prompting.lorebook.compiled import ScanProfile
from chats.prompting.lorebook.inputs import ActivationSettings, ScanExtras, ScanMessage
from chats.prompting.lorebook.scan_text import Haystack, ScanText

MAX_SCAN_DEPTH = 1000  # SillyTavern's cap


class ScanBuffer:
    def __init__(
        self, *, history: Sequence[ScanMessage], extras: ScanExtras, settings: ActivationSettings
    ) -> None:
        self.settings = settings
        self.messages = [  # newest first, as SillyTavern joins them
            ScanText(_message_text(message, settings.include_names)) for message in reversed(history)
        ]
        self.extras = {name: ScanText(text) for name, text in vars(extras).items() if text}
        self.recursion: list[ScanText] = []
        self.skew = 0  # messages added to the scan depth by min activations
        self._haystacks: dict[tuple[object, ...], Haystack | None] = {}
        # The haystack with the most recursion text, by what else it reads: the next pass's base.
        self._latest: dict[tuple[int, tuple[str, ...]], tuple[int, Haystack]] = {}

    def haystack(
        self, profile: ScanProfile, *, book_scan_depth: int | None, with_recursion: bool
    ) -> Haystack | None:
        """What entries of `profile` read; None when their scan depth is 0 (SillyTavern then scans nothing)."""
        if profile.scan_depth is not None:
            depth = profile.scan_depth
        else:
            depth = (self.settings.scan_depth if book_scan_depth is None else book_scan_depth) + self.skew
        depth = min(depth, MAX_SCAN_DEPTH)
        recursion = len(self.recursion) if with_recursion and profile.scans_recursion else 0
        cache_key = (depth, profile.extras, recursion)
        if cache_key not in self._haystacks:
            self._haystacks[cache_key] = None if depth <= 0 else self._build(depth, profile.extras, recursion)
        return self._haystacks[cache_key]

    def _build(self, depth: int, extras: tuple[str, ...], recursion: int) -> Haystack:
        parts = [
            *self.messages[:depth],
            *(self.extras[name] for name in extras if name in self.extras),
            *self.recursion[:recursion],
        ]
        # The same chat and extras with less recursion text: what this pass adds to the last one's.
        latest = self._latest.get((depth, extras))
        base = latest[1] if latest is not None and latest[0] < recursion else None
        haystack = Haystack(parts, base=base)
        if latest is None or latest[0] < recursion:
            self._latest[(depth, extras)] = (recursion, haystack)
        return haystack

    def add_recursion(self, contents: Sequence[str]) -> None:
        self.recursion.append(ScanText.joined(contents))

    def widen(self) -> bool:
        """Scan one message deeper for min activations; False when the limit is reached."""
        history = len(self.messages)
        most = self.settings.min_activations_depth_max
        limit = min(history, most) if most > 0 else history
        if self.settings.scan_depth + self.skew >= limit:
            return False
        self.skew += 1
        return True


def _message_text(message: ScanMessage, include_names: bool) -> str:
    text = message.text.strip()
    return f"{message.name}: {text}" if include_names and message.name else text
