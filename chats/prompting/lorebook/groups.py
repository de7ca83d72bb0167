"""Inclusion groups: of the entries of one group activating in the same pass, only one stays.

SillyTavern's order of decisions (`filterByInclusionGroups`), per group:
1. if any member is sticky, the sticky members stay and the others lose;
2. with group scoring (an entry's own setting, else the global one), scored
   members with fewer key matches than the best lose;
3. if an entry of the group was activated by an earlier pass, every member loses;
4. if any member has `group_override`, the one with the highest order wins;
5. otherwise one wins by a weighted roll over `group_weight`.
An entry in several groups (comma-separated) must survive each of them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from characters.cards.lorebook.book import LorebookEntry


class GroupMember(Protocol):
    @property
    def entry(self) -> LorebookEntry: ...

    @property
    def groups(self) -> tuple[str, ...]: ...

    @property
    def sticky(self) -> bool: ...

    @property
    def label(self) -> str: ...


M = TypeVar("M", bound=GroupMember)


@dataclass(frozen=True)
class GroupLoss:
    group: str
    detail: str  # for the report, naming the winner
    earlier_winner: bool = False  # lost to an entry an earlier pass activated


def inclusion_groups_filter(
    members: Sequence[M],
    *,
    active_groups: Mapping[str, str],
    use_group_scoring: bool,
    score: Callable[[M], int],
    rng: random.Random,
) -> dict[M, GroupLoss]:
    """The losers among `members` (in pass order); `active_groups` names each group's earlier winner."""
    grouped: dict[str, list[M]] = {}
    for member in members:
        for name in member.groups:
            grouped.setdefault(name, []).append(member)
    losers: dict[M, GroupLoss] = {}
    sticky_groups: set[str] = set()

    for name, group in grouped.items():
        sticky = [member for member in group if member.sticky]
        if sticky:
            sticky_groups.add(name)
            loss = GroupLoss(name, f'lost group "{name}" to sticky {sticky[0].label}')
            for member in group:
                if not member.sticky:
                    losers.setdefault(member, loss)
            continue
        if not (use_group_scoring or any(member.entry.use_group_scoring for member in group)):
            continue
        scores = [score(member) for member in group]
        best = max(scores)
        leader = group[scores.index(best)]
        for member, member_score in zip(group, scores, strict=True):
            scored = member.entry.use_group_scoring
            if (use_group_scoring if scored is None else scored) and member_score < best:
                losers.setdefault(
                    member,
                    GroupLoss(
                        name, f'lost group "{name}" to {leader.label} on score ({member_score} < {best})'
                    ),
                )

    for name, group in grouped.items():
        if name in sticky_groups:
            continue
        contenders = [member for member in group if member not in losers]
        if name in active_groups:
            loss = GroupLoss(
                name, f'group "{name}" was already won by {active_groups[name]}', earlier_winner=True
            )
            for member in contenders:
                losers[member] = loss
            continue
        if len(contenders) <= 1:
            continue
        overriding = [member for member in contenders if member.entry.group_override]
        if overriding:
            winner = max(overriding, key=lambda member: member.entry.order)  # first of equal orders
            how = "group override, highest order"
        else:
            winner, how = _weighted_roll(contenders, rng)
        loss = GroupLoss(name, f'lost group "{name}" to {winner.label} ({how})')
        for member in contenders:
            if member is not winner:
                losers[member] = loss
    return losers


def _weighted_roll(contenders: list[M], rng: random.Random) -> tuple[M, str]:
    weights = [max(0, member.entry.group_weight) for member in contenders]
    total = sum(weights)
    roll = rng.random() * total
    cumulative = 0
    for member, weight in zip(contenders, weights, strict=True):
        cumulative += weight
        if roll <= cumulative:
            return member, f"weighted roll {roll:.1f} of {total}"
    return contenders[-1], f"weighted roll {roll:.1f} of {total}"
