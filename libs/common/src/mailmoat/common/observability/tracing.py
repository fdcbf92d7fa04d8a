"""OpenTelemetry tracing whose context rides in Kafka headers, so one trace follows a mail from
the SMTP transaction through every hop to the webhook, and a send from the API call to the relay.

Spans follow the messaging semantic conventions of ``SCHEMA_URL`` (``create`` where an event is
staged, ``process`` where a consumer handles it). The standard ``OTEL_*`` variables configure
export: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) set, spans go to that
OTLP/HTTP collector in batches; ``OTEL_TRACES_EXPORTER=none`` turns export off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.semconv._incubating.attributes import messaging_attributes as messaging
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.trace import SpanKind

from mailmoat.common.observability.logging import current_service

log = logging.getLogger(__name__)

T = TypeVar("T")

TRACER_NAME = "mailmoat"
SCHEMA_URL = Schemas.V1_27_0.value
"""The semantic conventions the spans' names and attributes follow (pinned)."""
SERVICE_ATTRIBUTE = "mailmoat.service"
"""Which service made a span, where several share a process (and its ``service.name``)."""


def configure_tracing(service: str, *, processor: SpanProcessor | None = None) -> TracerProvider:
    """Install a tracer provider for ``service``; spans go to ``processor`` if one is given,
    and to the OTLP collector the ``OTEL_*`` variables name, if any.

    The global provider can be set once per process; where several services share a process
    (tests, benchmarks) the first one's provider is kept and given the processor.
    """
    current = trace.get_tracer_provider()
    provider = current if isinstance(current, TracerProvider) else None
    if provider is None:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(_ServiceAttribute())
        if exporter := _otlp_exporter():
            provider.add_span_processor(exporter)
        trace.set_tracer_provider(provider)
    if processor is not None:
        provider.add_span_processor(processor)
    return provider


def _otlp_exporter() -> SpanProcessor | None:
    """A batching OTLP/HTTP exporter when the environment asks for one."""
    env = os.environ
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return None
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not any(env.get(name) for name in endpoints):
        return None
    protocol = env.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    if protocol and protocol != "http/protobuf":
        log.warning("OTLP protocol %s is not supported; exporting with http/protobuf", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())  # endpoint, headers, timeout: from OTEL_*


class _ServiceAttribute(SpanProcessor):
    """Names the service on each span it starts (``mailmoat.service``)."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        if (service := current_service()) is not None:
            span.set_attribute(SERVICE_ATTRIBUTE, service)

    def on_end(self, span: ReadableSpan) -> None:
        pass


def console_processor() -> SpanProcessor:
    """Span processor printing finished spans to stdout (debugging without a collector)."""
    return SimpleSpanProcessor(ConsoleSpanExporter())


def tracer() -> trace.Tracer:
    """The project's tracer."""
    return trace.get_tracer(TRACER_NAME, schema_url=SCHEMA_URL)


def current_trace_headers() -> dict[str, str]:
    """W3C trace context of the current span, as message headers (empty outside a span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def created_trace_headers(topic: str) -> dict[str, str]:
    """The headers of an event staged now for ``topic``: the context of its ``create`` span, a
    child of the current span, so whoever processes the event continues this trace."""
    attributes = {
        messaging.MESSAGING_SYSTEM: "kafka",
        messaging.MESSAGING_DESTINATION_NAME: topic,
        messaging.MESSAGING_OPERATION_TYPE: "create",
        messaging.MESSAGING_OPERATION_NAME: "create",
    }
    with tracer().start_as_current_span(
        f"create {topic}", kind=SpanKind.PRODUCER, attributes=attributes
    ):
        return current_trace_headers()


def processing_span(
    headers: Mapping[str, str], topic: str, group: str, partition: int | None, key: str | None
) -> trace.Span:
    """The ``process`` span of one consumed record, a child of the span that staged it, started
    but not made current: its consumer makes it current (``trace.use_span``) for the record's
    own work, which in a batch is interleaved with the other records'."""
    attributes: dict[str, str | int] = {
        messaging.MESSAGING_SYSTEM: "kafka",
        messaging.MESSAGING_DESTINATION_NAME: topic,
        messaging.MESSAGING_OPERATION_TYPE: "process",
        messaging.MESSAGING_OPERATION_NAME: "process",
        messaging.MESSAGING_CONSUMER_GROUP_NAME: group,
    }
    if partition is not None:
        attributes[messaging.MESSAGING_DESTINATION_PARTITION_ID] = str(partition)
    if key is not None:
        attributes[messaging.MESSAGING_KAFKA_MESSAGE_KEY] = key
    return tracer().start_span(
        f"process {topic}",
        context=context_from_headers(headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    )


async def within(trace_context: context.Context, work: Awaitable[T]) -> T:
    """Await ``work`` under ``trace_context``: for work one task does for another (a group
    commit storing many SMTP transactions), so what it stages continues the right trace."""
    token = context.attach(trace_context)
    try:
        return await work
    finally:
        context.detach(token)


def context_from_headers(headers: Mapping[str, str]) -> context.Context:
    """Trace context carried by a consumed record's headers."""
    return propagate.extract(dict(headers))
