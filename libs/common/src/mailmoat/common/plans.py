"""The plans a workspace can be on: the security levels each allows and its monthly credits.

| plan       | levels         | credits per calendar month (UTC) |
|------------|----------------|----------------------------------|
| free       | L1, L2         | 1,000                            |
| developer  | L1 to L3       | 25,000                           |
| startup    | L1 to L4       | 250,000                          |
| enterprise | L1 to L4       | 2,500,000                        |

A workspace on a plan not listed here (a name set by hand) has no allowance: everything it
uses is overage, and nothing is refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """A plan's name, the security levels its inboxes may use and its credits per period."""

    name: str
    levels: tuple[str, ...]
    monthly_credits: int


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("free", ("L1", "L2"), 1_000),
        Plan("developer", ("L1", "L2", "L3"), 25_000),
        Plan("startup", ("L1", "L2", "L3", "L4"), 250_000),
        Plan("enterprise", ("L1", "L2", "L3", "L4"), 2_500_000),
    )
}


def monthly_allowance(plan: str) -> int:
    """The credits a workspace on ``plan`` may use each month before it runs into overage."""
    found = PLANS.get(plan)
    return found.monthly_credits if found is not None else 0


def allows(plan: str, level: str) -> bool:
    """Whether an inbox of a workspace on ``plan`` may use security ``level``; a plan not listed
    here allows what the free plan does."""
    return level in PLANS.get(plan, PLANS["free"]).levels


def minimum_plan(level: str) -> str:
    """The cheapest plan that allows ``level``."""
    return next(plan.name for plan in PLANS.values() if level in plan.levels)
