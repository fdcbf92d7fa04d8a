"""The relay's refusal handling: which errors are for good, and when a stand-in can be made."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)

from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.events import Event, Finding, InboxEvent, InboxEventKind, RawMailReceived
from mailmoat.common.outbox_failures import ERROR_LIMIT, PERMANENT_ERRORS, describe, stand_in_for
from mailmoat.common.topics import Topic

WORKSPACE, INBOX = uuid.uuid4(), uuid.uuid4()


def row(topic: str, payload: bytes) -> OutboxRecord:
    return OutboxRecord(id=1, topic=topic, payload=payload, key="k", headers={})


def raw_mail(findings: int) -> RawMailReceived:
    return RawMailReceived(
        mail_id=uuid.uuid4(),
        workspace_id=WORKSPACE,
        inbox_id=INBOX,
        raw_ref=uuid.uuid4(),
        sha256="0" * 64,
        size=10,
        mail_from="a@example.com",
        rcpt_to="agent@example.com",
        security_level="L2",
        l1_findings=(Finding(code="L1_X", reason="r" * 300),) * findings,
    )


def test_only_refusals_of_the_record_itself_are_for_good() -> None:
    assert isinstance(MessageSizeTooLargeError("too large"), PERMANENT_ERRORS)
    passing = (
        NodeNotReadyError(),
        KafkaConnectionError(),
        KafkaTimeoutError(),
        RequestTimedOutError(),
        NotLeaderForPartitionError(),
        RuntimeError("unknown"),
    )
    for exc in passing:
        assert not isinstance(exc, PERMANENT_ERRORS), exc


def test_a_stand_in_drops_the_lists_and_keeps_the_event_id() -> None:
    event = raw_mail(50)
    stand_in = stand_in_for(row(Topic.RAW_MAIL.value, event.to_bytes()))
    assert stand_in is not None
    slim = RawMailReceived.model_validate_json(stand_in)
    assert (slim.event_id, slim.l1_findings, slim.l1_findings_dropped) == (event.event_id, (), 50)


@pytest.mark.parametrize(
    ("topic", "event"),
    [
        (Topic.RAW_MAIL.value, raw_mail(0)),  # nothing to drop
        (
            Topic.INBOX_EVENTS.value,
            InboxEvent(
                mail_id=uuid.uuid4(),
                workspace_id=WORKSPACE,
                inbox_id=INBOX,
                kind=InboxEventKind.SENDER_WARNED,
                message_id=INBOX,
                reason="x" * 10_000,
            ),
        ),
        ("no-such-topic", raw_mail(5)),
        (Topic.INBOX_EVENTS.value, raw_mail(5)),  # not the topic's event
    ],
)
def test_no_stand_in_when_nothing_can_be_dropped_or_the_payload_does_not_decode(
    topic: str, event: Event
) -> None:
    assert stand_in_for(row(topic, event.to_bytes())) is None
    assert stand_in_for(row(topic, b"{not json")) is None


def test_errors_are_recorded_bounded() -> None:
    text = describe(MessageSizeTooLargeError("x" * 10 * ERROR_LIMIT))
    assert text.startswith("MessageSizeTooLargeError: ")
    assert len(text) == ERROR_LIMIT
