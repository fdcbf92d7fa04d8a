"""The one registry of Kafka topic names; no other module spells a topic.

| producer            | topic          | consumers (group)                                         |
|---------------------|----------------|-----------------------------------------------------------|
| ingest              | raw-mail       | scanner (scanner-primary), scanner (scanner-checker)      |
| scanner primary,    | scan-verdicts  | scanner (scanner-consensus)                               |
|   scanner checker   |                |                                                           |
| scanner consensus   | scanned-mail   | policy (policy-inbound), reputation (reputation-scanned)  |
| gateway             | send-requested | policy (policy-outbound)                                  |
| policy              | send-decisions | gateway (every replica, no group: replies to waiting API  |
|                     |                |   calls, matched on the outbound id)                      |
| policy              | send-approved  | dispatch (dispatch-mail)                                  |
| dispatch            | sent           | reputation (reputation-sent)                              |
| policy, dispatch,   | inbox-events   | dispatch (dispatch-webhooks), reputation                  |
|   gateway,          |                |   (reputation-releases: released mail, sender graph)      |
|   reputation        |                |                                                           |
| ingest              | feedback       | reputation (reputation-feedback)                          |
| reputation,         | sender-status  | policy (policy-sender-status), reputation                 |
|   gateway           |                |   (reputation-sender-status: reinstatements)              |
| every service       | audit          | dispatch (dispatch-audit)                                 |
| reputation          | sender-graph   | scanner (scanner-consensus-graph); compacted, keyed on    |
|                     |                |   the edge (inbox:kind:sha256 of the sender)              |

Every topic has a dead-letter twin, ``<topic>.dlq``, written by the consumer that could not
process a record (with the error in the record's headers) and read by operators and redrive.
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """A Kafka topic of the pipeline (the value is the topic's name on the broker)."""

    RAW_MAIL = "raw-mail"
    SCAN_VERDICTS = "scan-verdicts"
    SCANNED_MAIL = "scanned-mail"
    SEND_REQUESTED = "send-requested"
    SEND_DECISIONS = "send-decisions"
    SEND_APPROVED = "send-approved"
    SENT = "sent"
    INBOX_EVENTS = "inbox-events"
    FEEDBACK = "feedback"
    SENDER_STATUS = "sender-status"
    AUDIT = "audit"
    SENDER_GRAPH = "sender-graph"

    @property
    def dlq(self) -> str:
        """Name of this topic's dead-letter topic."""
        return f"{self.value}.dlq"


COMPACTED = frozenset({Topic.SENDER_GRAPH})

EVENT_BUDGET_BYTES = 256 * 1024
"""Largest record any producer stages, a quarter of Kafka's default 1 MiB (room for headers
and a broker's own overhead): an event that would be larger is staged in its slimmed form
(``Event.slimmed``), lists dropped and counted. A verdict's most (200 findings of bounded
strings and a coverage list of up to 1,000 parts) fits."""


def topic_config(name: str) -> dict[str, str]:
    """Broker settings a topic is created with: the state topics are compacted."""
    if any(name == topic.value for topic in COMPACTED):
        return {"cleanup.policy": "compact"}
    return {}


def all_topic_names() -> list[str]:
    """Every topic the gateway needs on the broker, dead-letter topics included."""
    return [name for topic in Topic for name in (topic.value, topic.dlq)]
