"""What the detectors read: a message cut into named text segments, each read whole.

This is the scanner's half of the coverage invariant (the other half, what an agent may see, is
``mailmoat.common.mail.exposure``): every field shown to an agent is a segment here, read whole
by both detectors, and whatever could not be read is a ``coverage.*`` gap that counts as a flag
(``coverage.py``). Padding cannot buy a PASS: text past the scan budget is a gap, not a skip.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.events import Finding
from mailmoat.common.mail.structured import Attachment, StructuredMessage

SCAN_BUDGET_CHARS = 8_000_000
"""Characters of distinct segment text a detector reads per mail (a CPU bound: about six
seconds for the checker, three for the model, in ``make bench``). Ingest keeps at most 2 M
characters per body and of all attachments' text, 4 M of hidden fragments, so only a mail of
many large parts reaches it; what lies past it is a ``coverage.budget`` gap."""

TRUNCATING_DEFECTS = frozenset(
    {
        "message_too_large",
        "part_truncated",
        "total_size_exceeded",
        "text_truncated",
        "html_truncated",
        "too_many_parts",
        "nesting_too_deep",
        "unparseable",
        "part_error",
    }
)
"""Ingest defects that mean part of the message never became text anyone read."""
GAP_STATUSES = frozenset({"too_large", "failed"})
"""Attachment text that exists but was not extracted. Encrypted and unsupported parts have no
text an agent could be given either, so they are not gaps."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text and where it came from.

    ``part`` names it for findings and coverage: ``subject``, ``from`` (the sender's addresses,
    display names and header values), ``visible`` (what a person sees), ``quoted`` (quoted
    history), ``text`` (the text/plain body), ``html`` (the HTML source), ``hidden:<kind>:<n>``
    (hidden content), ``attachment:<path>`` (text inside an attachment), ``attachment-names``.
    Finding spans (``start``/``end``) are character offsets into this segment's ``text``.
    """

    part: str
    text: str


@dataclass(frozen=True, slots=True)
class ScanContent:
    """Every segment of one message a detector must read, and what could not be read."""

    segments: tuple[Segment, ...]
    unscannable: tuple[Finding, ...] = ()
    """Coverage gaps: content no detector could read (truncated, unextractable, past the
    budget, unanalysed). Each counts as a flag."""

    def segment(self, part: str) -> Segment | None:
        return next((s for s in self.segments if s.part == part), None)

    @classmethod
    def from_text(cls, subject: str, body: str, sender: str = "") -> ScanContent:
        """A plain message: subject, sender and visible body (for tests and tools)."""
        segments = (Segment("subject", subject), Segment("from", sender), Segment("visible", body))
        return cls(tuple(s for s in segments if s.text))

    @classmethod
    def unanalysed(cls, subject: str, sender: str, visible: str, html: str) -> ScanContent:
        """What could be read of a message ingest could not analyse (the stdlib's reading of
        the raw MIME), with the gap that makes it a flag."""
        segments = [
            Segment("subject", subject),
            Segment("from", sender),
            Segment("visible", visible),
            Segment("html", html),
        ]
        kept, over = within_scan_budget([s for s in segments if s.text], SCAN_BUDGET_CHARS)
        return cls(tuple(kept), (_unanalysed_gap(), *over))

    @classmethod
    def from_structured(cls, message: StructuredMessage) -> ScanContent:
        """Every segment of ingest's parse, the ones an agent sees first, within the budget."""
        segments = [
            Segment("subject", message.subject),
            Segment("from", message.sender_text()),
            Segment("visible", message.visible_text),
            Segment("quoted", message.quoted_history),
            Segment("text", message.text_body),
            Segment("html", message.html_body),
            Segment("attachment-names", "\n".join(a.filename or "" for a in message.attachments)),
        ]
        segments += [
            Segment(f"hidden:{fragment.kind}:{n}", fragment.text)
            for n, fragment in enumerate(message.hidden_content)
        ]
        segments += [Segment(f"attachment:{a.path}", a.text) for a in message.attachments]
        gaps = [_truncated(d) for d in message.defects if d in TRUNCATING_DEFECTS]
        gaps += [_unextracted(a) for a in message.attachments if a.text_status in GAP_STATUSES]
        kept, over = within_scan_budget([s for s in segments if s.text.strip()], SCAN_BUDGET_CHARS)
        return cls(tuple(kept), tuple(gaps + over))


def within_scan_budget(segments: list[Segment], budget: int) -> tuple[list[Segment], list[Finding]]:
    """The segments a detector can read within ``budget`` characters of distinct text (the
    last one cut to fit), and a ``coverage.budget`` gap for each part not read whole."""
    kept: list[Segment] = []
    gaps: list[Finding] = []
    seen: set[str] = set()
    for segment in segments:
        cost = 0 if segment.text in seen else len(segment.text)
        if cost > budget:
            gaps.append(_over_budget(segment, budget))
            segment = Segment(segment.part, segment.text[:budget])
            cost = budget
        if segment.text:
            kept.append(segment)
        seen.add(segment.text)
        budget -= cost
    return kept, gaps


def _unanalysed_gap() -> Finding:
    return Finding(
        code="coverage.analysis_failed",
        reason="ingest could not analyse the message; only its raw text was read",
        part="message",
    )


def _truncated(defect: str) -> Finding:
    return Finding(
        code="coverage.truncated",
        reason=f"part of the message was never read ({defect.replace('_', ' ')})",
        part="message",
    )


def _unextracted(attachment: Attachment) -> Finding:
    return Finding(
        code=f"coverage.{attachment.text_status}",
        reason=f"the text of an attachment ({attachment.sniffed_type}) could not be read: "
        f"{attachment.text_status.replace('_', ' ')}",
        part=f"attachment:{attachment.path}",
    )


def _over_budget(segment: Segment, budget: int) -> Finding:
    return Finding(
        code="coverage.budget",
        reason=f"{len(segment.text)} characters, {max(0, budget)} left of the scan budget",
        part=segment.part,
        start=max(0, budget),
        end=len(segment.text),
    )
