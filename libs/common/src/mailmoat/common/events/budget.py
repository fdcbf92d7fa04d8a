"""Event size budgets: what a producer stages always fits a Kafka record, whatever the mail held.

Events are bounded by construction (findings' strings are cut, lists capped); an event that
still passes ``EVENT_BUDGET_BYTES`` goes in its slimmed form, counted, so no mail can make a
record the broker refuses and no list can grow without limit.
"""

from __future__ import annotations

import logging

from mailmoat.common.events.base import Event
from mailmoat.common.observability.metrics import EVENTS_TRIMMED
from mailmoat.common.topics import EVENT_BUDGET_BYTES, Topic

log = logging.getLogger(__name__)


class EventTooLargeError(Exception):
    """An event over its budget even slimmed: a bug in the event's model, never the mail's."""


def within_budget(topic: Topic, event: Event) -> tuple[Event, bytes]:
    """``event`` and its bytes, slimmed first when it would pass the budget."""
    payload = event.to_bytes()
    if len(payload) <= EVENT_BUDGET_BYTES:
        return event, payload
    slim = event.slimmed()
    slim_payload = slim.to_bytes()
    if len(slim_payload) > EVENT_BUDGET_BYTES:
        raise EventTooLargeError(
            f"{type(event).__name__} is {len(slim_payload)} bytes slimmed, over the budget"
        )
    EVENTS_TRIMMED.labels(topic.value).inc()
    log.warning(
        "%s cut from %d to %d bytes to fit the %s budget",
        type(event).__name__,
        len(payload),
        len(slim_payload),
        topic.value,
    )
    return slim, slim_payload
