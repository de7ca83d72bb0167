"""The characters domain's one error: a rule the caller broke."""

from __future__ import annotations

from tavern.errors import DomainRuleError


class CharacterError(DomainRuleError):
    """A rule the caller broke; `field` names the input at fault."""
