"""One trace per journey, exported over OTLP as the standard ``OTEL_*`` variables ask: a mail's
from the SMTP transaction through every Kafka hop to its webhook, a send's from the API call to
the relay; every span's parent in the same trace, the hops named as the messaging conventions
say."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailmoat.cli.main import CORE_SERVICE_NAMES
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from tests.support.allowlist import end_cooldowns
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

DOMAIN = "agents.mailmoat.localhost"
ORDINARY = b"From: ann@example.net\r\nSubject: lunch\r\n\r\nLunch at noon on Friday?\r\n"
INBOUND_SERVICES = set(CORE_SERVICE_NAMES) - {"gateway", "reputation"}
"""Every service a mail's journey to its webhook passes through."""


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as otlp:
        yield otlp


@pytest.fixture
def stack_env(receiver: OtlpReceiver) -> dict[str, str]:
    """Spans exported to ``receiver`` every 200 ms."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "MAILMOAT_METRICS_PORT": str(free_port()),
    }


def _smtp(port: int, body: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("ann@example.net", [f"agent@{DOMAIN}"], body)


def _services(spans: list[ReceivedSpan]) -> set[str]:
    return {span.attributes.get("mailmoat.service", "") for span in spans}


def _assert_linked(spans: list[ReceivedSpan]) -> None:
    """One root, and every other span's parent is a span of the same trace."""
    ids = {span.span_id for span in spans}
    roots = [span for span in spans if not span.parent_id]
    assert len(roots) == 1, [(s.name, s.parent_id) for s in roots]
    orphans = [span.name for span in spans if span.parent_id and span.parent_id not in ids]
    assert orphans == []


async def _whole_trace(
    receiver: OtlpReceiver, root: str, wanted: set[str], services: set[str]
) -> list[ReceivedSpan]:
    """The trace whose root span is named ``root``, once it holds the ``wanted`` span names and
    spans of every one of ``services``."""

    async def complete() -> list[ReceivedSpan] | None:
        for candidate in receiver.named(root):
            spans = receiver.trace(candidate.trace_id)
            names = {span.name for span in spans}
            if wanted <= names and services <= _services(spans):
                return spans
        return None

    return await eventually(complete, timeout=60, what=f"the whole trace of {root}")


@pytest.mark.timeout(300)
async def test_one_mail_is_one_trace_from_smtp_to_its_webhook(
    stack: ProcessStack,
    api: httpx.AsyncClient,
    webhooks: WebhookReceiver,
    receiver: OtlpReceiver,
) -> None:
    made = await api.post(
        "/inboxes", json={"slug": "agent", "security_level": "L2", "webhook_url": webhooks.url}
    )
    assert made.status_code == 201, made.text
    await asyncio.to_thread(_smtp, stack.smtp_port, ORDINARY)

    wanted = {
        "smtp DATA",
        "create raw-mail",
        "process raw-mail",
        "process scan-verdicts",
        "process scanned-mail",
        "process inbox-events",
        "webhook POST",
    }
    spans = await _whole_trace(receiver, "smtp DATA", wanted, INBOUND_SERVICES)
    _assert_linked(spans)
    [smtp] = [span for span in spans if span.name == "smtp DATA"]
    assert smtp.attributes["smtp.reply.code"] == "250"
    # The process is named for what it runs; each span names its own service.
    assert "ingest" in smtp.resource["service.name"].split("+")
    assert smtp.attributes["mailmoat.service"] == "ingest"
    webhook = next(span for span in spans if span.name == "webhook POST")
    assert webhook.attributes["http.response.status_code"] == 204
    processed = [span for span in spans if span.name.startswith("process ")]
    for span in processed:
        topic = span.name.removeprefix("process ")
        assert span.attributes["messaging.system"] == "kafka"
        assert span.attributes["messaging.operation.type"] == "process"
        assert span.attributes["messaging.destination.name"] == topic
        assert span.attributes["messaging.consumer.group.name"]
        assert span.kind == 5  # SPAN_KIND_CONSUMER
    # Each hop's consumer continues the span that staged its event, not the one before it.
    by_id = {span.span_id: span for span in spans}
    for span in processed:
        assert by_id[span.parent_id].name == span.name.replace("process", "create")


@pytest.mark.timeout(300)
async def test_one_send_is_one_trace_from_the_api_call_to_the_relay(
    stack: ProcessStack,
    api: httpx.AsyncClient,
    settings: CommonSettings,
    smtp_sink: SmtpSink,
    receiver: OtlpReceiver,
) -> None:
    made = await api.post("/inboxes", json={"slug": "sender", "security_level": "L3"})
    assert made.status_code == 201, made.text
    assert (await api.post("/allowlist", json={"address": "bob@example.com"})).status_code == 201
    await end_cooldowns(settings, "bob@example.com")
    sent = await api.post(
        "/inboxes/sender/send", json={"to": ["bob@example.com"], "subject": "Hi", "text": "Hello"}
    )
    assert sent.status_code in (200, 202), sent.text

    async def delivered() -> Any:
        return smtp_sink.envelopes

    await eventually(delivered, what="the relay to receive the send")
    root = "POST /api/v1/inboxes/{slug}/send"
    wanted = {root, "process send-requested", "process send-approved", "smtp send"}
    spans = await _whole_trace(receiver, root, wanted, {"gateway", "policy", "dispatch"})
    _assert_linked(spans)
    [relay] = [span for span in spans if span.name == "smtp send"]
    assert relay.attributes["smtp.accepted"] is True
