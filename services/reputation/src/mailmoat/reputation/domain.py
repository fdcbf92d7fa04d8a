"""How reputation judges a sender from its windows: pure functions and the thresholds.

A sender is an inbox, or a workspace (all its inboxes' sends together). Rates are per message
sent (one per recipient the relay accepted) over a rolling 24 h and 7 d, each window judged on
its own, the worse verdict winning:

- Complaints (ARF): above 0.3% suspends, 0.1% or more warns. Neither acts below 300 messages
  in the window, and suspension needs at least 2 complaints: one complaint among a handful of
  sends proves nothing, while a real 0.3% rate shows within about a thousand messages.
- Hard bounces (DSN): above 10% suspends, above 5% warns, from 100 messages in the window.
- Bursts throttle for 15 minutes: more messages in one minute than 60 and than 10 times the
  sender's 7-day average minute, or more than 30 first-time recipients in one minute.

A suspension lasts until a person reinstates the sender; a reinstatement starts a new epoch, so
the messages that led to it are not counted again. A complaint or bounce counts once per send,
recipient and kind (``feedback_identity``), however often its report arrives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

COMPLAINT_SUSPEND_RATE = 0.003
COMPLAINT_WARN_RATE = 0.001
MIN_SENT_FOR_COMPLAINTS = 300
MIN_COMPLAINTS_TO_SUSPEND = 2
BOUNCE_SUSPEND_RATE = 0.10
BOUNCE_WARN_RATE = 0.05
MIN_SENT_FOR_BOUNCES = 100
BURST_FLOOR_PER_MINUTE = 60
BURST_FACTOR = 10
FIRST_CONTACTS_PER_MINUTE = 30
THROTTLE_FOR = timedelta(minutes=15)
WINDOWS = (("24 h", timedelta(hours=24)), ("7 d", timedelta(days=7)))


@dataclass(frozen=True)
class Window:
    """A sender's counts over one rolling window."""

    label: str
    sent: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0


@dataclass(frozen=True)
class Verdict:
    status: str  # "active", "warned" or "suspended"
    reason: str


_RANK = {"active": 0, "warned": 1, "suspended": 2}


def judge(windows: list[Window]) -> Verdict:
    """The worst verdict any window earns."""
    worst = Verdict("active", "complaint and bounce rates within limits")
    for window in windows:
        for verdict in (_complaints(window), _bounces(window)):
            if verdict is not None and _RANK[verdict.status] > _RANK[worst.status]:
                worst = verdict
    return worst


def _complaints(w: Window) -> Verdict | None:
    if w.sent < MIN_SENT_FOR_COMPLAINTS or w.complaints == 0:
        return None
    rate = w.complaints / w.sent
    figures = f"{w.complaints} complaints in {w.sent} messages over {w.label} ({rate:.2%})"
    if rate > COMPLAINT_SUSPEND_RATE and w.complaints >= MIN_COMPLAINTS_TO_SUSPEND:
        return Verdict("suspended", f"complaint rate above 0.30%: {figures}")
    if rate >= COMPLAINT_WARN_RATE:
        return Verdict("warned", f"complaint rate at or above 0.10%: {figures}")
    return None


def _bounces(w: Window) -> Verdict | None:
    if w.sent < MIN_SENT_FOR_BOUNCES or w.hard_bounces == 0:
        return None
    rate = w.hard_bounces / w.sent
    figures = f"{w.hard_bounces} hard bounces in {w.sent} messages over {w.label} ({rate:.1%})"
    if rate > BOUNCE_SUSPEND_RATE:
        return Verdict("suspended", f"hard-bounce rate above 10%: {figures}")
    if rate > BOUNCE_WARN_RATE:
        return Verdict("warned", f"hard-bounce rate above 5%: {figures}")
    return None


def feedback_identity(send_id: uuid.UUID, recipient: str, kind: str) -> tuple[uuid.UUID, str, str]:
    """What makes a complaint or bounce the same one again: the send, the address (case-folded,
    as reports spell it as they like) and the kind."""
    return send_id, recipient.strip().lower(), kind


def burst(minute_sent: int, minute_first_contacts: int, week_sent: int) -> str | None:
    """Why this minute's sending is a burst, or None. With ``week_sent`` 0 the limit is the
    floor, the lowest any sender has: None there means no burst whatever the history."""
    average = week_sent / (7 * 24 * 60)
    limit = max(BURST_FLOOR_PER_MINUTE, BURST_FACTOR * average)
    if minute_sent > limit:
        return (
            f"{minute_sent} messages in one minute, over {limit:.0f} "
            f"(the 7-day average minute is {average:.1f})"
        )
    if minute_first_contacts > FIRST_CONTACTS_PER_MINUTE:
        return f"{minute_first_contacts} first-time recipients in one minute"
    return None


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
