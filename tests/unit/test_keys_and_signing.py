"""API keys and scopes; Standard Webhooks signatures; trace context in message headers."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from mailmoat.common.observability.tracing import context_from_headers, current_trace_headers
from mailmoat.common.settings import CommonSettings
from mailmoat.dispatch.adapters.webhooks import sign
from mailmoat.gateway.keys import (
    PRESETS,
    SEND_SCOPE,
    expand_scopes,
    generate_key,
    grants,
    token_matches,
    token_prefix,
)


def test_keys_are_random_hashed_and_looked_up_by_prefix() -> None:
    first, second = generate_key(), generate_key()
    assert first.token != second.token
    assert token_prefix(first.token) == first.prefix
    assert token_matches(first.token, first.secret_hash)
    assert not token_matches(second.token, first.secret_hash)
    assert first.secret_hash not in first.token
    assert token_prefix("Bearer nonsense") is None


def test_no_preset_or_wildcard_grants_send() -> None:
    for preset in PRESETS:
        assert SEND_SCOPE not in expand_scopes([preset])
    assert not grants(["*", "write:*", "write:mail"], SEND_SCOPE)
    assert grants([SEND_SCOPE], SEND_SCOPE)
    with pytest.raises(ValueError, match="unknown scope"):
        expand_scopes(["everything"])


def test_standard_webhooks_signature_vector() -> None:
    # Test vector published with the Standard Webhooks specification.
    import base64

    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_trace_context_travels_in_headers() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("produce") as span:
        headers = current_trace_headers()
    assert "traceparent" in headers
    carried = trace.get_current_span(context_from_headers(headers)).get_span_context()
    assert carried.trace_id == span.get_span_context().trace_id


def test_settings_refuse_placeholder_secrets() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        CommonSettings(webhook_secret_key="changeme")  # type: ignore[arg-type]
