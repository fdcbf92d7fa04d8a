"""DMARC (RFC 7489, RFC 9091 ``np=``): does an aligned SPF or DKIM pass vouch for the From?"""

from __future__ import annotations

from collections.abc import Sequence

from mailmoat.common.mail.auth import DkimResult, DmarcResult, SpfResult
from mailmoat.ingest.adapters.dns import DnsTempError, Resolver
from mailmoat.ingest.auth.dmarc_record import DmarcRecord, Policy, is_dmarc_record, parse_record
from mailmoat.ingest.auth.orgdomain import (
    aligned,
    is_hostname,
    normalise_domain,
    organizational_domain,
)

_DOWNGRADE: dict[Policy, Policy] = {"reject": "quarantine", "quarantine": "none", "none": "none"}


def evaluate_dmarc(
    *,
    from_domains: Sequence[str],
    spf: SpfResult,
    dkim: Sequence[DkimResult],
    resolver: Resolver,
    sample: float = 0.0,
) -> DmarcResult:
    """Evaluate the single RFC5322.From domain; ``sample`` in [0, 1) decides ``pct=`` sampling.

    Zero or several From domains cannot be evaluated and give permerror, never pass.
    """
    if len(from_domains) != 1:
        listed = ", ".join(from_domains) or "none"
        return DmarcResult(result="permerror", reason=f"need exactly one From domain, got {listed}")
    from_domain = normalise_domain(from_domains[0])
    if not is_hostname(from_domain):
        return DmarcResult(result="permerror", reason=f"unusable From domain {from_domain!r}")
    try:
        found = _discover(from_domain, resolver)
    except DnsTempError as exc:
        return DmarcResult(result="temperror", from_domain=from_domain, reason=str(exc))
    if found is None:
        return DmarcResult(result="none", from_domain=from_domain, reason="no DMARC record")
    record_domain, record = found
    return _verdict(from_domain, record_domain, record, spf, dkim, resolver, sample)


def _discover(from_domain: str, resolver: Resolver) -> tuple[str, DmarcRecord] | None:
    """The record at ``_dmarc.<from>``, else at ``_dmarc.<organizational domain>``."""
    for domain in dict.fromkeys((from_domain, organizational_domain(from_domain))):
        records = [t for t in resolver.lookup(f"_dmarc.{domain}", "TXT") if is_dmarc_record(t)]
        if len(records) == 1:
            return domain, parse_record(records[0])
        if records:
            return None  # several records: RFC 7489 6.6.3 says apply no DMARC at all
    return None


def _verdict(
    from_domain: str,
    record_domain: str,
    record: DmarcRecord,
    spf: SpfResult,
    dkim: Sequence[DkimResult],
    resolver: Resolver,
    sample: float,
) -> DmarcResult:
    base = DmarcResult(result="none", from_domain=from_domain)
    if record.malformed:
        return base.model_copy(update={"result": "permerror", "reason": "; ".join(record.errors)})
    if record.p is None and not record.has_report_uri:
        return base.model_copy(update={"reason": "record has no valid p= tag"})
    spf_ok = spf.result == "pass" and aligned(from_domain, spf.domain, record.aspf)
    dkim_ok = any(d.result == "pass" and aligned(from_domain, d.domain, record.adkim) for d in dkim)
    policy = _policy(from_domain, record_domain, record, resolver)
    update = {"policy": policy, "spf_aligned": spf_ok, "dkim_aligned": dkim_ok}
    if spf_ok or dkim_ok:
        return base.model_copy(
            update={**update, "result": "pass", "reason": _source(base, record_domain)}
        )
    disposition = policy if sample * 100 < record.pct else _DOWNGRADE[policy]
    reason = f"{_source(base, record_domain)}; no aligned SPF or DKIM pass"
    return base.model_copy(
        update={**update, "result": "fail", "disposition": disposition, "reason": reason}
    )


def _policy(
    from_domain: str, record_domain: str, record: DmarcRecord, resolver: Resolver
) -> Policy:
    """p= at the From domain itself; below it np= (From domain absent), then sp=, then p=."""
    p: Policy = record.p or "none"  # a record without p= but with rua= acts as p=none
    if from_domain == record_domain:
        return p
    if record.np is not None and not _exists(from_domain, resolver):
        return record.np
    return record.sp or p


def _exists(domain: str, resolver: Resolver) -> bool:
    try:
        return resolver.exists(domain)
    except DnsTempError:
        return True  # unknown: fall back to sp=/p= rather than guess the domain is absent


def _source(base: DmarcResult, record_domain: str) -> str:
    if record_domain == base.from_domain:
        return "used From domain record"
    return f"used organizational domain record ({record_domain})"
