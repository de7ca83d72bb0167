"""The token budget activated entries spend, highest priority first."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chats.prompting.lorebook.inputs import ActivationSettings


@dataclass(frozen=True)
class BudgetSpend:
    budget: int
    used: int
    overflowed: bool  # an entry was left out because it did not fit


@dataclass
class BudgetPool:
    budget: int
    used: int = 0
    overflowed: bool = False

    def spend(self, tokens: int, *, ignore_budget: bool) -> bool:
        """Take `tokens` if they fit (or the entry ignores the budget); a miss marks the pool overflowed."""
        if not ignore_budget and self.used + tokens > self.budget:
            self.overflowed = True
            return False
        self.used += tokens
        return True

    def spend_report(self) -> BudgetSpend:
        return BudgetSpend(budget=self.budget, used=self.used, overflowed=self.overflowed)


def lorebook_budget(settings: ActivationSettings) -> int:
    """SillyTavern: `round(budget% of the context) || 1`, then the cap if one is set."""
    budget = math.floor(settings.context_tokens * settings.budget_percent / 100 + 0.5) or 1
    if settings.budget_cap > 0:
        budget = min(budget, settings.budget_cap)
    return budget
