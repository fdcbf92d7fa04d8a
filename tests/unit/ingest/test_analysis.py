"""Analysis that fails closed: stage 1 kept, a per-mail DNS budget, a pool that stays usable."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.adapters.dns import DnsTempError
from mailmoat.ingest.adapters.dns.budget import DnsAllowance
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.adapters.store import Envelope
from mailmoat.ingest.analysis import Analyser, Analysis, CheckRunner
from mailmoat.ingest.domain.checks import run_checks
from mailmoat.ingest.domain.mime import MimeLimits
from mailmoat.ingest.domain.parts import PartPayload
from mailmoat.ingest.settings import IngestSettings
from tests.unit.ingest.checks.samples import eicar

HOLE = "blackhole.test"
ENVELOPE = Envelope(mail_from="alice@sender.example", client_ip="192.0.2.1", helo="mx.sender")
RECORDS = {
    "sender.example": {"TXT": ["v=spf1 ip4:192.0.2.1 -all"]},
    "_dmarc.sender.example": {"TXT": ["v=DMARC1; p=reject"]},
}


@dataclass
class SlowDns:
    """DNS as a resolver sees it: names under ``HOLE`` never answer, so each query waits out
    its lifetime (at most ``query_timeout``); unless ``ignores_lifetime``, which waits longer."""

    query_timeout: float = 0.3
    ignores_lifetime: bool = False
    asked: list[str] = field(default_factory=list)
    known: StaticResolver = field(default_factory=lambda: StaticResolver(RECORDS))

    def lookup(self, name: str, rdtype: str, *, lifetime: float | None = None) -> tuple[str, ...]:
        self._wait(name, lifetime)
        return self.known.lookup(name, rdtype)

    def exists(self, name: str, *, lifetime: float | None = None) -> bool:
        self._wait(name, lifetime)
        return self.known.exists(name)

    def _wait(self, name: str, lifetime: float | None) -> None:
        self.asked.append(name)
        if not name.rstrip(".").endswith(HOLE):
            return
        wait = self.query_timeout
        if lifetime is not None and not self.ignores_lifetime:
            wait = min(wait, lifetime)
        time.sleep(max(wait, 0.0))
        raise DnsTempError(f"no answer for {name}")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="test-analysis")
    yield executor
    executor.shutdown(wait=True)


def analyser(
    pool: ThreadPoolExecutor,
    dns: SlowDns,
    *,
    timeout: float = 2.0,
    dns_seconds: float = 0.5,
    checks: CheckRunner = run_checks,
) -> Analyser:
    return Analyser(
        resolver=dns,
        authserv_id="mx.mailmoat.test",
        limits=MimeLimits(),
        timeout=timeout,
        dns=DnsAllowance(seconds=dns_seconds, max_queries=50),
        pool=pool,
        checks=checks,
    )


def signatures(count: int, domain: str = HOLE) -> bytes:
    """Well-formed DKIM-Signature fields whose keys live at ``domain``."""
    bh = base64.b64encode(b"\0" * 32).decode()
    b = base64.b64encode(b"\1" * 256).decode()
    return b"".join(
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s{i};"
        f" h=from:subject; bh={bh}; b={b}\r\n".encode()
        for i in range(count)
    )


def arc_sets(count: int, domain: str = HOLE) -> bytes:
    """A well-formed ARC chain of ``count`` sets, each sealed by a key under ``domain``."""
    bh = base64.b64encode(b"\0" * 32).decode()
    b = base64.b64encode(b"\1" * 256).decode()
    fields = []
    for i in range(count, 0, -1):
        tags = f"a=rsa-sha256; d=h{i}.{domain}; s=s; t=1700000000"
        cv = "none" if i == 1 else "pass"
        fields.append(f"ARC-Seal: i={i}; {tags}; cv={cv}; b={b}")
        fields.append(f"ARC-Message-Signature: i={i}; {tags}; h=from:subject; bh={bh}; b={b}")
        fields.append(f"ARC-Authentication-Results: i={i}; relay.example; spf=pass")
    return "".join(f"{field}\r\n" for field in fields).encode()


def mail(extra_headers: bytes = b"", attachment: bytes | None = None) -> bytes:
    head = (
        extra_headers + b"From: alice@sender.example\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n"
    )
    if attachment is None:
        return head + b"Content-Type: text/plain\r\n\r\nsee you tomorrow\r\n"
    return (
        head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="a.com"\r\n\r\n' + attachment + b"\r\n--b--\r\n"
    )


async def timed(job: Analyser, raw: bytes) -> tuple[Analysis, float]:
    started = time.monotonic()
    analysis = await job.analyse(raw, ENVELOPE)
    return analysis, time.monotonic() - started


def codes(analysis: Analysis) -> set[str]:
    return {f.code for f in analysis.findings}


def reason(analysis: Analysis) -> str:
    return analysis.quarantine_reason(blocked=False) or ""


async def test_black_holed_dkim_keys_spend_the_budget_and_quarantine(
    pool: ThreadPoolExecutor,
) -> None:
    dns = SlowDns()
    raw = mail(signatures(10), attachment=eicar())
    analysis, elapsed = await timed(analyser(pool, dns, dns_seconds=0.5), raw)
    assert elapsed < 1.2  # the budget (0.5 s), not ten query timeouts (3 s) nor the deadline
    assert analysis.failure == "dns_budget_exhausted"
    assert reason(analysis).startswith("analysis_failed, malware.eicar")
    assert "malware.eicar" in codes(analysis)
    assert "malware.eicar" in reason(analysis)
    assert "see attached" in analysis.message.visible_text
    assert "analysis_failed" in analysis.message.defects
    assert not analysis.message.invalid_mime
    assert sum(HOLE in name for name in dns.asked) < 10  # the rest were refused unasked
    assert analysis.authentication.spf.result == "pass"
    assert {d.result for d in analysis.authentication.dkim} == {"temperror"}
    assert analysis.authentication.dmarc.result == "temperror"
    assert analysis.stored_raw.startswith(b"Authentication-Results: mx.mailmoat.test;")


async def test_many_arc_sets_on_dead_servers_spend_the_budget(pool: ThreadPoolExecutor) -> None:
    dns = SlowDns()
    analysis, elapsed = await timed(analyser(pool, dns), mail(arc_sets(50), attachment=eicar()))
    assert elapsed < 1.2  # a hundred key lookups would take 30 s at 0.3 s each
    assert analysis.failure == "dns_budget_exhausted"
    assert analysis.authentication.arc.result == "fail"
    assert "malware.eicar" in codes(analysis)
    assert sum(HOLE in name for name in dns.asked) < 5


async def test_one_slow_query_within_the_budget_is_an_ordinary_temperror(
    pool: ThreadPoolExecutor,
) -> None:
    # A DNS outage makes queries time out one by one: that must not quarantine all mail.
    analysis, _ = await timed(
        analyser(pool, SlowDns(query_timeout=0.2), dns_seconds=1.5), mail(signatures(1))
    )
    assert analysis.failure is None
    assert [d.result for d in analysis.authentication.dkim] == ["temperror"]
    assert analysis.authentication.dmarc.result == "pass"  # SPF, and DNS after the timeout
    assert "analysis_failed" not in analysis.message.defects
    assert analysis.quarantine_reason(blocked=False) is None


async def test_checks_that_raise_fail_the_analysis(pool: ThreadPoolExecutor) -> None:
    def broken(parts: Sequence[PartPayload]) -> tuple[Finding, ...]:
        raise RuntimeError("rule table corrupt")

    analysis, _ = await timed(analyser(pool, SlowDns(), checks=broken), mail())
    assert analysis.failure == "analysis_error"
    assert reason(analysis) == "analysis_failed"
    assert analysis.message.visible_text.strip() == "see you tomorrow"
    assert analysis.authentication.spf.result == "pass"  # authentication still ran


async def test_stage_one_past_the_deadline_leaves_a_quarantined_stand_in(
    pool: ThreadPoolExecutor,
) -> None:
    def slow(parts: Sequence[PartPayload]) -> tuple[Finding, ...]:
        time.sleep(1.0)
        return run_checks(parts)

    job = analyser(pool, SlowDns(), timeout=0.3, dns_seconds=0.2, checks=slow)
    analysis, elapsed = await timed(job, mail(attachment=eicar()))
    assert elapsed < 0.8  # the deadline, not the checks' second
    assert analysis.failure == "analysis_timeout"
    assert analysis.message.invalid_mime
    assert {"analysis_failed", "analysis_timeout"} <= set(analysis.message.defects)
    assert reason(analysis) == "analysis_failed"
    assert analysis.authentication.dmarc.result == "temperror"


async def test_authentication_past_the_deadline_keeps_stage_one(pool: ThreadPoolExecutor) -> None:
    # A resolver that does not honour the lifetime still cannot hold the SMTP reply back.
    dns = SlowDns(query_timeout=0.8, ignores_lifetime=True)
    job = analyser(pool, dns, timeout=0.4, dns_seconds=0.3)
    analysis, elapsed = await timed(job, mail(signatures(1), attachment=eicar()))
    assert elapsed < 0.7
    assert analysis.failure == "analysis_timeout"
    assert "malware.eicar" in codes(analysis)
    assert "see attached" in analysis.message.visible_text
    assert analysis.authentication.dmarc.result == "temperror"
    assert reason(analysis).startswith("analysis_failed, malware.eicar")


async def test_slow_mail_does_not_exhaust_the_pool(pool: ThreadPoolExecutor) -> None:
    job = analyser(pool, SlowDns(), timeout=1.0, dns_seconds=0.4)
    slow = mail(signatures(10))
    for _ in range(3):
        analysis, elapsed = await timed(job, slow)
        assert (analysis.failure, elapsed < 1.0) == ("dns_budget_exhausted", True)
    burst = await asyncio.gather(*(timed(job, slow) for _ in range(6)))
    assert all(analysis.failure is not None for analysis, _ in burst)
    assert max(elapsed for _, elapsed in burst) < 1.5
    ordinary, elapsed = await timed(job, mail(attachment=eicar()))
    assert ordinary.failure is None
    assert elapsed < 0.5
    assert ordinary.authentication.spf.result == "pass"
    assert "malware.eicar" in codes(ordinary)


def test_dns_budget_defaults_to_two_thirds_of_the_deadline() -> None:
    settings = IngestSettings(analysis_timeout_seconds=3.0)
    assert settings.our_dns_budget_seconds == pytest.approx(2.0)
    assert IngestSettings(dns_budget_seconds=1.0).our_dns_budget_seconds == 1.0


@pytest.mark.parametrize(
    "values",
    [
        {"analysis_timeout_seconds": 5.0, "dns_budget_seconds": 5.0},
        {"analysis_workers": 4, "max_connections_per_ip": 4},
    ],
)
def test_settings_refuse_bounds_that_do_not_fit(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        IngestSettings(**values)


def test_the_pool_grows_past_the_connections_one_client_may_hold() -> None:
    assert IngestSettings().our_analysis_workers == 16
    assert IngestSettings(max_connections_per_ip=64).our_analysis_workers == 65
