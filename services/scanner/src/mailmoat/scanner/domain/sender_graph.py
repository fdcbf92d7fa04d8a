"""What the inbound sender graph adds to a mail's risk.

The graph (built by reputation, read here from its compacted ``sender-graph`` topic) knows, for
each inbox, every external address and domain that has written to it: since when, how many mails,
how many were withheld and how many passed DMARC. A mail's sender is judged against it:

- ``lookalike_domain``, 70: the From domain has never had mail delivered to this inbox, and its
  UTS #39 skeleton equals that of a domain that has (``paypa1.example`` beside ``paypal.example``);
- ``known_sender_unauthenticated``, 30: the address's earlier mail passed DMARC, this one does not;
- ``past_withheld``, 25: earlier mail from this address was withheld;
- ``domain_past_withheld``, 15: earlier mail from other addresses at its domain was withheld;
- ``first_contact``, 5: the address (and its domain) never wrote to this inbox before; 2 for a
  new address at a domain that has.

The points are added to the detectors' risk (capped at 100), so a look-alike of a known
correspondent is withheld (risk above 70) even when both detectors find nothing. The other
signals only nudge the score, at most to 70 and never over it: a mail one detector flags, or could
not judge (a side missing at the deadline counts as a flag at 100, risk 60 and up), stays in
REVIEW for a stranger or a repeat sender too, so a detector outage does not withhold every new
correspondent. A sender on the inbox's allowlist whose mail is DMARC-aligned (``trusted``) is
never a first contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.events import SenderSignal

LOOKALIKE = 70
KNOWN_SENDER_UNAUTHENTICATED = 30
PAST_WITHHELD = 25
DOMAIN_PAST_WITHHELD = 15
FIRST_CONTACT = 5
FIRST_CONTACT_KNOWN_DOMAIN = 2


@dataclass(frozen=True)
class Edge:
    """What the graph knows of one address or domain writing to one inbox."""

    messages: int
    withheld: int
    dmarc_pass: int

    @property
    def delivered(self) -> int:
        """Mails from it that were not withheld."""
        return self.messages - self.withheld


@dataclass(frozen=True)
class SenderFacts:
    """The mail's sender as ingest saw it."""

    address: str
    domain: str
    dmarc: str
    trusted: bool


def sender_signals(
    facts: SenderFacts,
    address: Edge | None,
    domain: Edge | None,
    lookalike_of: tuple[str, ...],
) -> tuple[SenderSignal, ...]:
    """The graph's signals for one mail. ``lookalike_of``: the inbox's known domains (with
    delivered mail) whose skeleton equals the sender domain's, the domain itself excluded."""
    if not facts.address:
        return ()
    signals: list[SenderSignal] = []
    if lookalike_of and (domain is None or domain.delivered == 0):
        shown = ", ".join(lookalike_of[:3])
        detail = f"{facts.domain} looks like {shown}, which this inbox corresponds with"
        signals.append(SenderSignal(code="lookalike_domain", points=LOOKALIKE, detail=detail))
    if address is None or address.messages == 0:
        if not facts.trusted:
            known = domain is not None and domain.messages > 0
            points = FIRST_CONTACT_KNOWN_DOMAIN if known else FIRST_CONTACT
            where = f"; {facts.domain} has written before" if known else ""
            detail = f"first mail from {facts.address} to this inbox{where}"
            signals.append(SenderSignal(code="first_contact", points=points, detail=detail))
    elif address.dmarc_pass > 0 and facts.dmarc != "pass":
        detail = (
            f"{address.dmarc_pass} earlier mail(s) from {facts.address} passed DMARC; "
            f"this one: {facts.dmarc}"
        )
        signals.append(
            SenderSignal(
                code="known_sender_unauthenticated",
                points=KNOWN_SENDER_UNAUTHENTICATED,
                detail=detail,
            )
        )
    if address is not None and address.withheld > 0:
        detail = f"{address.withheld} of {address.messages} earlier mails from it were withheld"
        signals.append(SenderSignal(code="past_withheld", points=PAST_WITHHELD, detail=detail))
    elif domain is not None and domain.withheld > 0:
        detail = f"{domain.withheld} earlier mails from {facts.domain} were withheld"
        signals.append(
            SenderSignal(code="domain_past_withheld", points=DOMAIN_PAST_WITHHELD, detail=detail)
        )
    return tuple(signals)
