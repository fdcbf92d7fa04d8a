"""Which owed webhook deliveries to attempt now: a fair share for every workspace, a bound per
target and one in all, so that one tenant's slow endpoints never hold another tenant's."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Due:
    """A delivery owed: its id, its workspace and the target it goes to (``target_of``)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    target: str


@dataclass(frozen=True)
class Limits:
    """How many attempts may be in flight: in all, for one workspace, to one target."""

    total: int
    per_workspace: int
    per_target: int


def target_of(url: str) -> str:
    """The host and port a delivery connects to, as the per-target bound counts it."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # the egress guard refuses it; any key will do
        port = None
    default = 443 if parts.scheme == "https" else 80
    return f"{(parts.hostname or '').lower()}:{port or default}"


def pick_fair(
    waiting: Iterable[Due], running: Sequence[Due], limits: Limits, *, turn: int = 0
) -> list[Due]:
    """The waiting deliveries to start, in order: one per workspace per round, the rounds
    beginning at a workspace that moves on with ``turn`` (so none always goes first), each
    workspace in the order its deliveries wait. A workspace or target at its bound is passed
    over, and picking stops at the bound in all."""
    queues = _by_workspace(waiting, {due.id for due in running})
    per_workspace = Counter(due.workspace_id for due in running)
    per_target = Counter(due.target for due in running)
    room = limits.total - len(running)
    order = list(queues)
    if order:
        shift = turn % len(order)
        order = order[shift:] + order[:shift]
    picked: list[Due] = []
    while len(picked) < room:
        before = len(picked)
        for workspace in order:
            if len(picked) == room or per_workspace[workspace] >= limits.per_workspace:
                continue
            due = _next_for(queues[workspace], per_target, limits.per_target)
            if due is None:
                continue
            queues[workspace].remove(due)
            per_workspace[workspace] += 1
            per_target[due.target] += 1
            picked.append(due)
        if len(picked) == before:
            break
    return picked


def _by_workspace(waiting: Iterable[Due], skip: set[uuid.UUID]) -> dict[uuid.UUID, deque[Due]]:
    queues: dict[uuid.UUID, deque[Due]] = {}
    seen = set(skip)
    for due in waiting:
        if due.id not in seen:
            seen.add(due.id)
            queues.setdefault(due.workspace_id, deque()).append(due)
    return queues


def _next_for(queue: deque[Due], per_target: Counter[str], bound: int) -> Due | None:
    """The workspace's first delivery whose target has room."""
    return next((due for due in queue if per_target[due.target] < bound), None)
