"""evaluate_dmarc: record discovery, tags, alignment, p/sp/np selection, pct and From counts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mailmoat.common.mail.auth import DkimResult, DmarcResult, SpfResult
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.dmarc import evaluate_dmarc
from mailmoat.ingest.auth.dmarc_record import parse_record

RESOLVER = StaticResolver(
    {
        "_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject; sp=quarantine; np=reject"]},
        "mail.example.com": {"A": ["192.0.2.1"]},
        "_dmarc.strict.test": {"TXT": ["v=DMARC1; p=reject; adkim=s; aspf=s"]},
        "_dmarc.half.test": {"TXT": ["v=DMARC1; p=reject; pct=50"]},
        "_dmarc.twice.test": {"TXT": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]},
        "_dmarc.broken.test": {"TXT": ["v=DMARC1; p=reject; garbage"]},
        "_dmarc.nop.test": {"TXT": ["v=DMARC1; sp=reject"]},
        "_dmarc.nop-rua.test": {"TXT": ["v=DMARC1; rua=mailto:d@nop-rua.test"]},
        "_dmarc.slow.test": {},
        "_dmarc.victim.co.uk": {"TXT": ["v=DMARC1; p=reject"]},
    },
    timeouts=["_dmarc.slow.test"],
)
NO_SPF = SpfResult(result="none", domain="", scope="mailfrom")


def _spf(domain: str, result: str = "pass") -> SpfResult:
    return SpfResult.model_validate({"result": result, "domain": domain, "scope": "mailfrom"})


def _dkim(domain: str, result: str = "pass") -> DkimResult:
    return DkimResult.model_validate({"result": result, "domain": domain})


def _evaluate(
    from_domains: Sequence[str],
    spf: SpfResult = NO_SPF,
    dkim: Sequence[DkimResult] = (),
    sample: float = 0.0,
) -> DmarcResult:
    return evaluate_dmarc(
        from_domains=from_domains, spf=spf, dkim=dkim, resolver=RESOLVER, sample=sample
    )


def test_relaxed_alignment_accepts_the_same_organizational_domain() -> None:
    got = _evaluate(["example.com"], spf=_spf("bounce.mail.example.com"))
    assert (got.result, got.spf_aligned, got.dkim_aligned) == ("pass", True, False)
    assert _evaluate(["mail.example.com"], dkim=[_dkim("example.com")]).result == "pass"


def test_strict_alignment_needs_the_exact_domain() -> None:
    assert _evaluate(["strict.test"], dkim=[_dkim("sub.strict.test")]).result == "fail"
    assert _evaluate(["strict.test"], spf=_spf("sub.strict.test")).result == "fail"
    assert _evaluate(["strict.test"], dkim=[_dkim("STRICT.test")]).result == "pass"


def test_failed_or_unrelated_authentication_does_not_align() -> None:
    got = _evaluate(["example.com"], spf=_spf("example.com", "softfail"), dkim=[_dkim("evil.test")])
    assert (got.result, got.policy, got.disposition) == ("fail", "reject", "reject")
    assert _evaluate(["example.com"], dkim=[_dkim("example.com", "fail")]).result == "fail"


def test_public_suffixes_never_align_siblings() -> None:
    assert _evaluate(["victim.co.uk"], spf=_spf("attacker.co.uk")).result == "fail"


@pytest.mark.parametrize(
    ("from_domain", "policy"),
    [("example.com", "reject"), ("mail.example.com", "quarantine"), ("gone.example.com", "reject")],
)
def test_p_sp_np_selection(from_domain: str, policy: str) -> None:
    got = _evaluate([from_domain])
    assert (got.result, got.policy) == ("fail", policy)


def test_pct_sampling_downgrades_the_disposition() -> None:
    assert _evaluate(["half.test"], sample=0.2).disposition == "reject"
    got = _evaluate(["half.test"], sample=0.7)
    assert (got.result, got.policy, got.disposition) == ("fail", "reject", "quarantine")


def test_record_problems() -> None:
    assert _evaluate(["nothing.test"]).result == "none"
    assert _evaluate(["twice.test"]).result == "none"
    assert _evaluate(["broken.test"]).result == "permerror"
    assert _evaluate(["nop.test"]).result == "none"
    assert _evaluate(["slow.test"]).result == "temperror"
    got = _evaluate(["nop-rua.test"])
    assert (got.result, got.policy) == ("fail", "none")


@pytest.mark.parametrize(
    "from_domains", [[], ["example.com", "example.com"], ["example.com", "evil.test"], [""]]
)
def test_zero_several_or_unusable_from_domains_are_permerror(from_domains: list[str]) -> None:
    got = _evaluate(from_domains, dkim=[_dkim("example.com")], spf=_spf("example.com"))
    assert got.result == "permerror"
    assert got.reason


@pytest.mark.parametrize(
    ("record", "p", "valid"),
    [
        ("v=DMARC1; p=quarantine; pct=20; adkim=s", "quarantine", True),
        ("v=DMARC1; p=n", "none", True),
        ("v=DMARC1; p=bogus", None, False),
        ("v=DMARC1; p=none; pct=101", "none", False),
        ("v=DMARC1; p=reject; unknown=tag", "reject", True),
    ],
)
def test_record_parsing(record: str, p: str | None, valid: bool) -> None:
    parsed = parse_record(record)
    assert (parsed.p, parsed.valid) == (p, valid)
