"""Every topic has an event model and a dead-letter twin; events are frozen and versioned."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from pydantic import ValidationError

from mailmoat.common import topics
from mailmoat.common.events import EVENT_BY_TOPIC, SenderStatusChanged
from mailmoat.common.topics import Topic, all_topic_names

DESIGN_CARD_NAMES = {
    "raw-mail",
    "scan-verdicts",
    "scanned-mail",
    "send-requested",
    "send-approved",
    "sent",
}


def test_design_card_topics_and_dead_letter_twins_exist() -> None:
    names = set(all_topic_names())
    assert names >= DESIGN_CARD_NAMES
    assert {"inbox-events", "feedback", "sender-status", "audit"} <= names
    assert {f"{t.value}.dlq" for t in Topic} <= names
    assert len(names) == 2 * len(Topic)


def test_registry_docstring_lists_every_topic() -> None:
    assert topics.__doc__ is not None
    for topic in Topic:
        assert f"| {topic.value}" in topics.__doc__


def test_every_topic_has_an_event_model() -> None:
    assert set(EVENT_BY_TOPIC) == set(Topic)


def event() -> SenderStatusChanged:
    return SenderStatusChanged(
        mail_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        inbox_id=uuid.uuid4(),
        status="suspended",
        reason="complaints",
    )


def test_events_round_trip_and_are_frozen() -> None:
    original = event()
    assert SenderStatusChanged.model_validate_json(original.to_bytes()) == original
    assert original.schema_version == 1
    assert original.occurred_at.utcoffset() is not None
    with pytest.raises(ValidationError):
        original.reason = "changed"  # type: ignore[misc]


def test_events_refuse_unknown_versions_naive_times_and_extra_fields() -> None:
    data = event().model_dump(mode="json")
    for bad in (
        {"schema_version": 2},
        {"occurred_at": datetime(2026, 1, 1).isoformat()},
        {"raw_mime": "From: x"},
    ):
        with pytest.raises(ValidationError):
            SenderStatusChanged.model_validate({**data, **bad})


def test_every_field_is_described() -> None:
    for model in EVENT_BY_TOPIC.values():
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
