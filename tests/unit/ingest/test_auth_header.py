"""Authentication-Results: rendering ours, and stamping it over forged copies byte-exactly."""

from __future__ import annotations

import pytest

from mailmoat.common.mail.auth import (
    ArcResult,
    AuthenticationResults,
    DkimResult,
    DmarcResult,
    SpfResult,
)
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.fields import header_fields
from mailmoat.ingest.auth.header import authserv_id_of, render_header, stamp
from mailmoat.ingest.auth.pipeline import authenticate

OURS = "mx.mailmoat.test"
RESULTS = AuthenticationResults(
    authserv_id=OURS,
    spf=SpfResult(result="pass", domain="example.com", scope="mailfrom"),
    dkim=(DkimResult(result="pass", domain="example.com", selector="s1"),),
    dmarc=DmarcResult(result="pass", from_domain="example.com", policy="reject"),
    arc=ArcResult(result="none"),
)


def test_render_names_every_method() -> None:
    assert render_header(RESULTS) == (
        "Authentication-Results: mx.mailmoat.test;\r\n"
        "\tspf=pass smtp.mailfrom=example.com;\r\n"
        "\tdkim=pass header.d=example.com header.s=s1;\r\n"
        "\tdmarc=pass (p=reject dis=none) header.from=example.com;\r\n"
        "\tarc=none"
    )


def test_render_helo_scope_and_missing_signatures() -> None:
    results = RESULTS.model_copy(
        update={"spf": SpfResult(result="none", domain="helo.test", scope="helo"), "dkim": ()}
    )
    rendered = render_header(results, "\n")
    assert "\tspf=none smtp.helo=helo.test;\n" in rendered
    assert "\tdkim=none;\n" in rendered


def test_hostile_values_are_quoted() -> None:
    dkim = DkimResult(result="pass", domain="legitimate.com'a.attack.com", selector='s";x\0')
    dmarc = DmarcResult(result="fail", from_domain="x.test", reason="bad (\r\n) thing")
    rendered = render_header(RESULTS.model_copy(update={"dkim": (dkim,), "dmarc": dmarc}))
    assert 'header.d="legitimate.com\'a.attack.com" header.s="s\\";x?"' in rendered
    assert 'reason="bad (??) thing"' in rendered
    assert "\0" not in rendered


MESSAGE = (
    b"Authentication-Results: mx.mailmoat.test; dmarc=pass header.from=bank.test\r\n"
    b"Received: from relay\r\n"
    b"Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test\r\n"
    b"authentication-results : (sneaky) MX.MAILMOAT.TEST;\r\n"
    b"\tdkim=pass header.d=bank.test\r\n"
    b"Authentication-Results:\r\n"
    b"  mx.mailmoat.test; spf=pass\r\n"
    b'Authentication-Results: "mx.mailmoat.test"; arc=pass\r\n'
    b"Authentication-Results: mx.mailmoat.test\x00evil; arc=pass\r\n"
    b"Authentication-Results: (never closed\r\n"
    b"Authentication-Results: mx.mailmoat.test.other; arc=pass\r\n"
    b"From: Sender <s@example.com>\r\n"
    b"\r\n"
    b"Authentication-Results: mx.mailmoat.test; body text stays\r\n"
)


def test_stamp_removes_only_our_forged_results() -> None:
    stamped = stamp(MESSAGE, RESULTS)
    assert stamped.startswith(render_header(RESULTS).encode() + b"\r\n")
    rest = stamped[len(render_header(RESULTS)) + 2 :]
    assert rest == (
        b"Received: from relay\r\n"
        b"Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test\r\n"
        b"Authentication-Results: mx.mailmoat.test.other; arc=pass\r\n"
        b"From: Sender <s@example.com>\r\n"
        b"\r\n"
        b"Authentication-Results: mx.mailmoat.test; body text stays\r\n"
    )


def test_stamp_keeps_line_endings_and_unrelated_bytes() -> None:
    raw = b"Subject: caf\xc3\xa9\nX-Odd:\xff\xfe\n\nbody\r\nmore\n"
    stamped = stamp(raw, RESULTS)
    assert stamped.endswith(raw)
    assert b"\r\n" not in stamped[: -len(raw)]


def test_leading_whitespace_first_field_is_still_recognised() -> None:
    raw = b" Authentication-Results: mx.mailmoat.test; dmarc=pass\r\nFrom: a@b.test\r\n\r\n"
    assert stamp(raw, RESULTS).endswith(b"\r\nFrom: a@b.test\r\n\r\n")
    assert b"dmarc=pass\r\n" not in stamp(raw, RESULTS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" example.net; spf=pass", "example.net"),
        (" (c (nested) \\) ) example.net 1; none", "example.net"),
        (' "quoted.example"; none', "quoted.example"),
        (" (unclosed", None),
        ("", None),
    ],
)
def test_authserv_id_parsing(value: str, expected: str | None) -> None:
    assert authserv_id_of(value) == expected


def test_header_fields_stop_where_the_header_section_ends() -> None:
    raw = b"A: 1\r\nB: 2\r\n folded\r\nnot a header line\r\nC: 3\r\n\r\n"
    assert [f.name for f in header_fields(raw)] == ["a", "b"]


def test_pipeline_never_raises_and_stamps() -> None:
    resolver = StaticResolver(
        {
            "example.com": {"TXT": ["v=spf1 ip4:192.0.2.1 -all"]},
            "_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject"]},
        }
    )
    raw = b"From: A <a@example.com>\r\nSubject: hi\r\n\r\nbody\r\n"
    results = authenticate(
        raw,
        client_ip="192.0.2.1",
        helo="mail.example.com",
        mail_from="<a@example.com>",
        resolver=resolver,
        authserv_id=OURS,
    )
    assert (results.spf.result, results.dmarc.result) == ("pass", "pass")
    assert results.authenticated_domain == "example.com"
    assert results.dkim == ()
    assert results.arc.result == "none"
    for garbage in (b"", b"\x00\xff\r\n\r\n", b"From: \r\n\r\n", b"From: a@b\x00.com\n\n"):
        bad = authenticate(
            garbage,
            client_ip="not an ip",
            helo="",
            mail_from="<<>",
            resolver=resolver,
            authserv_id=OURS,
        )
        assert bad.authenticated_domain is None
        assert stamp(garbage, bad).endswith(garbage)
