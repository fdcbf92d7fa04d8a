"""What the detectors read: a message cut into named text segments, each scanned in full."""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.events import Finding
from mailmoat.common.mail.structured import Attachment, StructuredMessage


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text and where it came from.

    ``part`` names it for findings and coverage: ``subject``, ``visible`` (what a person sees),
    ``quoted`` (quoted history), ``text`` (the text/plain body), ``html`` (the HTML source),
    ``hidden:<kind>`` (hidden HTML content, e.g. ``hidden:css_hidden``), ``attachment:<path>``.
    Finding spans (``start``/``end``) are character offsets into this segment's ``text``.
    """

    part: str
    text: str


@dataclass(frozen=True, slots=True)
class ScanContent:
    """Every segment of one message a detector must cover."""

    segments: tuple[Segment, ...]
    unscannable: tuple[Finding, ...] = ()
    """Parts that could not be turned into text (encrypted, too large, unknown type)."""

    def segment(self, part: str) -> Segment | None:
        return next((s for s in self.segments if s.part == part), None)

    @classmethod
    def from_text(cls, subject: str, body: str) -> ScanContent:
        """A plain message: subject and visible body (tests and simple callers)."""
        return cls((Segment("subject", subject), Segment("visible", body)))

    @classmethod
    def from_structured(cls, message: StructuredMessage) -> ScanContent:
        """Subject, visible text, quoted history, both bodies and every hidden fragment."""
        segments = [
            Segment("subject", message.subject),
            Segment("visible", message.visible_text),
            Segment("quoted", message.quoted_history),
            Segment("text", message.text_body),
            Segment("html", message.html_body),
        ]
        for n, fragment in enumerate(message.hidden_content):
            segments.append(Segment(f"hidden:{fragment.kind}:{n}", fragment.text))
        gaps = []
        for attachment in message.attachments:
            segments.append(Segment(f"attachment:{attachment.path}", attachment.text))
            if attachment.text_status not in SCANNED:
                gaps.append(_gap(attachment))
        return cls(tuple(s for s in segments if s.text), tuple(gaps))


SCANNED = frozenset({"extracted", "empty"})


def _gap(attachment: Attachment) -> Finding:
    name = attachment.filename or attachment.sniffed_type
    return Finding(
        code=f"coverage.{attachment.text_status}",
        reason=f"attachment {name!r} ({attachment.sniffed_type}) could not be scanned: "
        f"{attachment.text_status.replace('_', ' ')}",
        part=f"attachment:{attachment.path}",
    )
