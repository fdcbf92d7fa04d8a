"""DMARC vectors: OpenDMARC's parser/alignment/From tables and authheaders' whole messages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import dkim

from mailmoat.common.mail.auth import DkimResult, SpfResult
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.dmarc import evaluate_dmarc
from mailmoat.ingest.auth.dmarc_record import parse_record
from mailmoat.ingest.auth.from_domains import domains_in_value, from_domains
from mailmoat.ingest.auth.orgdomain import aligned, organizational_domain
from tests.support.external import external, report

OPENDMARC_EXCEPTIONS: dict[str, str] = {
    "from_domain_extraction[5]": (
        "'<<<><joe@joe.com>>>' has stray angle brackets; we refuse to guess a domain from it"
    ),
    "from_domain_extraction[6]": (
        "two addresses in From: we return both domains so DMARC gives permerror, never a pick"
    ),
    "from_domain_extraction[7]": (
        "two addresses in From: we return both domains so DMARC gives permerror, never a pick"
    ),
}

AUTHHEADERS_EXCEPTIONS: dict[str, str] = {
    "test.gov.message": (
        "DMARCbis tree walk / PSD DMARC (psd=y at _dmarc.gov) is not RFC 7489: we find no record"
    ),
    "test.message_multi": (
        "several From addresses: we answer permerror by design, authheaders evaluates one (fail)"
    ),
    "test.message_multi2": (
        "several From addresses: we answer permerror by design, authheaders evaluates one (fail)"
    ),
}

NO_SPF = SpfResult(result="none", domain="", scope="mailfrom")


def _opendmarc_checks(tables: dict[str, Any]) -> dict[str, Callable[[list[Any]], bool]]:
    return {
        "record_parse": lambda c: parse_record(c[0]).valid == (c[1] == "OKAY"),
        "alignment": lambda c: aligned(c[0], c[1], c[2][0]) == (c[3] == 0),
        "from_domain_extraction": lambda c: domains_in_value(c[0]) == (c[1],),
        "org_domain_psl": lambda c: organizational_domain(c[0]) == c[1],
    }


def test_opendmarc_tables() -> None:
    tables = json.loads(external("dmarc_vectors", "opendmarc_tables.json").read_text())
    failures, total = [], 0
    for table, check in _opendmarc_checks(tables).items():
        for index, case in enumerate(tables[table]["cases"]):
            total += 1
            if not check(case):
                failures.append(f"{table}[{index}]")
    report("dmarc opendmarc tables", total - len(failures), total, len(OPENDMARC_EXCEPTIONS))
    assert total == 45
    assert sorted(failures) == sorted(OPENDMARC_EXCEPTIONS)


def _resolver(dns_map: dict[str, str | None]) -> StaticResolver:
    # In the map, None is NXDOMAIN and "" an empty answer: neither makes the name exist. The
    # DKIM key entry is a placeholder for the contents of test.txt.
    key = external("authheaders_dmarc", "test.txt").read_text().strip()
    records = {name: {"TXT": [value]} for name, value in dns_map.items() if value}
    records["test._domainkey.example.com."] = {"TXT": [key]}
    return StaticResolver(records)


def _verified(raw: bytes, resolver: StaticResolver) -> tuple[DkimResult, ...]:
    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return "".join(resolver.lookup(name.decode(), "TXT")).encode()

    verifier = dkim.DKIM(raw)
    passed = verifier.verify(dnsfunc=dnsfunc)
    domain = (verifier.domain or b"").decode()
    return (DkimResult(result="pass" if passed else "fail", domain=domain),)


def _previous(prev: str) -> tuple[DkimResult, ...]:
    found = re.findall(r"dkim=(\w+) header\.d=(\S+)", prev)
    return tuple(DkimResult(result=result, domain=domain) for result, domain in found)


def _mismatch(case: dict[str, Any], resolver: StaticResolver) -> str | None:
    raw = external("authheaders_dmarc", case["message"]).read_bytes()
    signatures = _verified(raw, resolver) if case.get("dkim") == "verify" else ()
    dkim_results = _previous(case["prev"]) if "prev" in case else signatures
    got = evaluate_dmarc(
        from_domains=from_domains(raw), spf=NO_SPF, dkim=dkim_results, resolver=resolver
    )
    expect = case["expect"]
    wanted = [re.search(rf"{key}=(\S+)", expect) for key in ("dmarc", "header.from", "policy")]
    have = [got.result, got.from_domain or "none", got.policy or "none"]
    pairs = [(w.group(1), h) for w, h in zip(wanted, have, strict=True) if w]
    if any(w != h for w, h in pairs):
        return f"{have} for {expect!r}"
    return None


def test_authheaders_messages() -> None:
    data = json.loads(external("dmarc_vectors", "authheaders_cases.json").read_text())
    resolver = _resolver(data["dns"])
    failures = {c["message"]: m for c in data["cases"] if (m := _mismatch(c, resolver))}
    total = len(data["cases"])
    report("dmarc authheaders messages", total - len(failures), total, len(AUTHHEADERS_EXCEPTIONS))
    assert total == 11
    assert sorted(failures) == sorted(AUTHHEADERS_EXCEPTIONS), failures


def test_several_from_addresses_never_pass() -> None:
    data = json.loads(external("dmarc_vectors", "authheaders_cases.json").read_text())
    resolver = _resolver(data["dns"])
    for name in ("test.message_multi", "test.message_multi2"):
        raw = external("authheaders_dmarc", name).read_bytes()
        passing = (DkimResult(result="pass", domain="example.org"),)
        got = evaluate_dmarc(
            from_domains=from_domains(raw), spf=NO_SPF, dkim=passing, resolver=resolver
        )
        assert got.result == "permerror"
