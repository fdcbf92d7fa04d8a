"""OpenTelemetry tracing whose context rides in Kafka headers, so one trace follows a mail."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

TRACER_NAME = "mailmoat"


def configure_tracing(service: str, *, processor: SpanProcessor | None = None) -> TracerProvider:
    """Install a tracer provider for ``service``; spans go to ``processor`` if one is given.

    The global provider can be set once per process; where several services share a process
    (tests, benchmarks) the first one's provider is kept and given the processor.
    """
    current = trace.get_tracer_provider()
    provider = current if isinstance(current, TracerProvider) else None
    if provider is None:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        trace.set_tracer_provider(provider)
    if processor is not None:
        provider.add_span_processor(processor)
    return provider


def console_processor() -> SpanProcessor:
    """Span processor printing finished spans to stdout (debugging without a collector)."""
    return SimpleSpanProcessor(ConsoleSpanExporter())


def tracer() -> trace.Tracer:
    """The project's tracer."""
    return trace.get_tracer(TRACER_NAME)


def current_trace_headers() -> dict[str, str]:
    """W3C trace context of the current span, as message headers (empty outside a span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> context.Context:
    """Trace context carried by a consumed record's headers."""
    return propagate.extract(dict(headers))
