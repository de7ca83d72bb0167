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
            if depth <= 0:
                self._haystacks[cache_key] = None
            else:
                parts = [
                    *self.messages[:depth],
                    *(self.extras[name] for name in profile.extras if name in self.extras),
                    *self.recursion[:recursion],
                ]
                self._haystacks[cache_key] = Haystack(parts)
        return self._haystacks[cache_key]

    def add_recursion(self, contents: Sequence[str]) -> None:
        self.recursion.append(ScanText("\n".join(contents)))

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
