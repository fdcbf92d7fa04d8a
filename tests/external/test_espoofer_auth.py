"""espoofer and Mailsploit spoofing cases through authenticate(): legitimate.com never passes."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailmoat.common.mail.auth import AuthenticationResults
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.header import render_header
from mailmoat.ingest.auth.orgdomain import organizational_domain
from mailmoat.ingest.auth.pipeline import authenticate
from tests.support.external import external, report

ATTACKER_IP = "203.0.113.66"
LEGITIMATE_IP = "192.0.2.10"
SPOOFED = "legitimate.com"
AUTHSERV_ID = "mx.victim.com"
# The client_* cases go through an account at a mail service (example.com) that lets the
# attacker send; only their several-From variants are ours to catch.
SEVERAL_FROM = frozenset({"server_a8", "server_a14", "client_a1", "client_a2"})


@pytest.fixture(scope="module")
def attacker_key() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


@pytest.fixture(scope="module")
def resolver(attacker_key: tuple[bytes, str]) -> StaticResolver:
    permissive = {"TXT": ["v=spf1 +all"]}
    dkim_key = {"TXT": [attacker_key[1]]}
    return StaticResolver(
        {
            "attack.com": permissive,
            "*.attack.com": permissive,
            "selector._domainkey.attack.com": dkim_key,
            "selector._domainkey.legitimate.com'a.attack.com": dkim_key,
            SPOOFED: {"TXT": [f"v=spf1 ip4:{LEGITIMATE_IP} -all"]},
            f"_dmarc.{SPOOFED}": {"TXT": ["v=DMARC1; p=reject"]},
            "example.com": {"TXT": [f"v=spf1 ip4:{ATTACKER_IP} -all"]},
            "_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject"]},
        }
    )


def _message(case: dict[str, Any], private_key: bytes) -> bytes:
    data = case["data"]
    text = "".join(
        data[part] for part in ("from_header", "to_header", "subject_header", "other_headers")
    )
    text = text.replace("{GET_DATE}", "Mon, 01 Jan 2024 10:00:00 +0000")
    raw = (text.replace("{ID_GENERATOR}", "0123456789") + data["body"]).encode("latin-1")
    if "dkim_para" not in case:
        return raw
    para = case["dkim_para"]
    signature = dkim.sign(
        raw,
        para["s"].encode("latin-1"),
        para["d"].encode("latin-1"),
        private_key,
        include_headers=[b"from", b"to", b"subject"],
    )
    return bytes(signature) + raw


def _vouches_for_spoofed(results: AuthenticationResults) -> list[str]:
    problems = []
    if (
        results.dmarc.result == "pass"
        and organizational_domain(results.dmarc.from_domain) == SPOOFED
    ):
        problems.append("dmarc pass")
    if organizational_domain(results.authenticated_domain or "") == SPOOFED:
        problems.append("authenticated domain")
    if results.spf.result == "pass" and organizational_domain(results.spf.domain) == SPOOFED:
        problems.append("spf pass")
    if any(d.result == "pass" and organizational_domain(d.domain) == SPOOFED for d in results.dkim):
        problems.append("dkim pass")
    for resinfo in render_header(results).split(";\r\n\t")[1:]:
        if "=pass" in resinfo.split(" ")[0] and re.search(rf"=(\S*\.)?{SPOOFED}(\s|$)", resinfo):
            problems.append(f"header says {resinfo!r}")
    return problems


def _run(case: dict[str, Any], raw: bytes, resolver: StaticResolver) -> AuthenticationResults:
    return authenticate(
        raw,
        client_ip=ATTACKER_IP,
        helo=case["helo"],
        mail_from=case["mailfrom"],
        resolver=resolver,
        authserv_id=AUTHSERV_ID,
    )


def test_espoofer_cases(resolver: StaticResolver, attacker_key: tuple[bytes, str]) -> None:
    cases = json.loads(external("espoofer", "testcases.json").read_text())
    failures: dict[str, list[str]] = {}
    for case_id, case in cases.items():
        results = _run(case, _message(case, attacker_key[0]), resolver)
        problems = _vouches_for_spoofed(results)
        if case_id in SEVERAL_FROM and results.dmarc.result != "permerror":
            problems.append(f"several From gave dmarc={results.dmarc.result}")
        if problems:
            failures[case_id] = problems
    report("espoofer spoofing cases", len(cases) - len(failures), len(cases))
    assert len(cases) == 22
    assert failures == {}


def test_espoofer_dkim_injection_is_quoted(
    resolver: StaticResolver, attacker_key: tuple[bytes, str]
) -> None:
    """A4: the signature is valid for the odd d=, which must stay one quoted value."""
    case = json.loads(external("espoofer", "testcases.json").read_text())["server_a4"]
    results = _run(case, _message(case, attacker_key[0]), resolver)
    assert [d.result for d in results.dkim] == ["pass"]
    assert 'header.d="legitimate.com\'a.attack.com"' in render_header(results)


def test_mailsploit_from_headers(resolver: StaticResolver) -> None:
    data = json.loads(external("mailsploit", "from_headers.json").read_text())
    failures = {}
    for case in data["cases"]:
        raw = (
            f"From: {case['from_header_value']}\r\nTo: <victim@victim.com>\r\n"
            "Subject: hello\r\n\r\nHi.\r\n"
        ).encode()
        envelope = {"helo": "attack.com", "mailfrom": f"<{data['real_from']}>"}
        results = _run(envelope, raw, resolver)
        if problems := _vouches_for_spoofed(results):
            failures[case["id"]] = problems
        elif results.dmarc.from_domain not in ("", "attack.com"):
            failures[case["id"]] = [f"From domain read as {results.dmarc.from_domain}"]
    report("mailsploit from headers", len(data["cases"]) - len(failures), len(data["cases"]))
    assert len(data["cases"]) == 13
    assert failures == {}
