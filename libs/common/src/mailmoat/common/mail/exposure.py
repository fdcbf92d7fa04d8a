"""What an agent may see of an inbound message: one definition, used by the API and webhooks.

The coverage invariant has two halves. The scanner's half (``scanner/domain/content.py``): every
field below that carries sender text is read whole by both detectors, or the detector reports a
``coverage.*`` finding and flags. This module's half: nothing else is shown.

| field            | shown as                                   | read by both detectors as     |
|------------------|--------------------------------------------|-------------------------------|
| from_address     | the From addr-spec, at most 254 characters | segment ``from``              |
| subject          | decoded, located instructions removed      | segment ``subject``           |
| text             | visible text, located instructions removed | segment ``visible``           |
| risk_reasons     | sender-graph signals ("code: domains")     | ``from`` (the sender's domain)|
| withheld_reason  | codes of ours (``detectors``, L1 codes...) | not sender text               |
| findings         | code, part (a segment or MIME path), span  | not sender text               |
| authentication   | the result of each check                   | not sender text               |

Never shown to an agent: display names, quoted history, hidden fragments, attachment names and
text, finding reasons (they may quote the mail: a person reads them through
``GET /messages/{id}/analysis`` with ``read:mail.raw``, audited), the raw MIME (the same scope,
audited). A withheld message shows only that it exists: id, sender address, the subject's
SHA-256, the reason codes and the scores, never its subject, text, findings or verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

WITHHELD = "withheld"
AGENT_FINDING_FIELDS = ("code", "part", "start", "end")
AUTH_RESULTS = ("spf", "dkim", "dmarc", "arc")


class StoredMessage(Protocol):
    """The stored inbound message, as far as exposure needs it."""

    status: str
    from_address: str
    subject: str
    text: str
    withheld_reason: str | None
    risk_reasons: list[str]


@dataclass(frozen=True)
class Shown:
    """The sender-derived fields of a message as an agent may read them."""

    withheld: bool
    from_address: str
    subject: str | None
    text: str | None
    risk_reasons: list[str]
    withheld_reason: str | None


def shown(message: StoredMessage) -> Shown:
    """What of ``message`` an agent may read, by its status."""
    withheld = message.status == WITHHELD
    reasons = list(message.risk_reasons or ())
    return Shown(
        withheld=withheld,
        from_address=message.from_address,
        subject=None if withheld else message.subject,
        text=None if withheld else message.text,
        risk_reasons=[r.split(":", 1)[0] for r in reasons] if withheld else reasons,
        withheld_reason=message.withheld_reason,
    )


def agent_findings(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings as codes, parts and spans: never a reason, which may quote the mail."""
    return [{key: finding.get(key) for key in AGENT_FINDING_FIELDS} for finding in findings]


def agent_authentication(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Each check's result (DKIM: one per signature), never the checks' explanations."""
    if results is None:
        return None
    summary: dict[str, Any] = {}
    for check in AUTH_RESULTS:
        value = results.get(check)
        if isinstance(value, list):
            summary[check] = [v.get("result") for v in value if isinstance(v, Mapping)]
        elif isinstance(value, Mapping):
            summary[check] = value.get("result")
    return summary
