"""Structured view of an inbound message, stored beside the raw MIME for the scanner and the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HiddenKind = Literal[
    "script",
    "style",
    "comment",
    "css_hidden",
    "zero_size",
    "off_screen",
    "same_color",
    "non_rendered",
    "alt_text",
    "invisible_chars",
]


SENDER_HEADERS = frozenset({"from", "sender", "reply-to"})
ANALYSIS_FAILED = "analysis_failed"
"""The defect of every message whose analysis did not complete (ingest quarantines it)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Frozen):
    """One mailbox of an address header, taken from the raw header's addr-spec."""

    display_name: str = Field(description="Decoded display name, control characters stripped.")
    address: str = Field(description="The addr-spec as written (never decoded from encoded words).")
    domain: str = Field(description="Lower-cased domain of the addr-spec, empty when none.")
    unparsed: str = Field(
        default="",
        description="What was written where the addr-spec should be, when it is no address "
        "(too long, not an address): shown to nobody, read by the detectors.",
    )

    def formatted(self) -> str:
        """How the mailbox is shown to a person: the real addr-spec always in angle brackets."""
        if not self.display_name:
            return f"<{self.address}>"
        quoted = self.display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{self.address}>'


TextStatus = Literal["extracted", "empty", "unsupported", "encrypted", "too_large", "failed"]


class Attachment(_Frozen):
    """A leaf part that is not one of the bodies a person reads."""

    path: str = Field(description="MIME part number, e.g. '2' or '3.1' ('0' for a single part).")
    filename: str | None = Field(description="Decoded file name, None when the part names none.")
    declared_type: str = Field(description="Content type the sender declared, lower case.")
    sniffed_type: str = Field(description="Content type recognised from the bytes themselves.")
    size: int = Field(ge=0, description="Decoded size in bytes (after any truncation).")
    sha256: str = Field(description="SHA-256 of the decoded bytes, hex.")
    disposition: str = Field(description="'attachment', 'inline' or '' when not declared.")
    text: str = Field(default="", description="Text extracted for the scanner (capped).")
    text_status: TextStatus = Field(
        default="unsupported",
        description="extracted, empty, unsupported (no text in this type), encrypted, "
        "too_large or failed: anything but extracted/empty is a gap in scanning coverage.",
    )


class HiddenFragment(_Frozen):
    """Text a person would not see, kept apart so the injection scanner can inspect it."""

    kind: HiddenKind = Field(description="How the text was hidden.")
    text: str = Field(description="The hidden text (capped).")
    part: str = Field(description="MIME part number of the body the text came from.")


class StructuredMessage(_Frozen):
    """What ingest understood of a message; the raw MIME stays the source of truth."""

    headers: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="Top-level headers in order: RFC 2047 decoded, control characters stripped, "
        "length-capped.",
    )
    subject: str = Field(default="", description="Decoded subject.")
    from_: tuple[Address, ...] = Field(default=(), description="Mailboxes of the From header.")
    from_display_mismatch: bool = Field(
        default=False,
        description="A From display name shows an email address other than its addr-spec.",
    )
    sender: Address | None = Field(default=None, description="The Sender header's mailbox.")
    reply_to: tuple[Address, ...] = Field(default=(), description="Reply-To mailboxes.")
    to: tuple[Address, ...] = Field(default=(), description="To mailboxes.")
    cc: tuple[Address, ...] = Field(default=(), description="Cc mailboxes.")
    message_id: str | None = Field(default=None, description="Message-ID, angle brackets kept.")
    in_reply_to: str | None = Field(default=None, description="First msg-id of In-Reply-To.")
    references: tuple[str, ...] = Field(default=(), description="msg-ids of References.")
    date: datetime | None = Field(default=None, description="Date header, None when unparseable.")
    text_body: str = Field(default="", description="Decoded text/plain body parts, joined.")
    html_body: str = Field(default="", description="Decoded text/html body parts, joined.")
    visible_text: str = Field(
        default="",
        description="What a person would see: the text body, or the HTML rendered without hidden "
        "content; invisible characters and quoted history removed.",
    )
    hidden_content: tuple[HiddenFragment, ...] = Field(
        default=(), description="Hidden text found in the bodies, for the scanner."
    )
    quoted_history: str = Field(
        default="", description="Quoted reply history split off the visible text."
    )
    attachments: tuple[Attachment, ...] = Field(
        default=(), description="Leaf parts other than the bodies, nested messages' parts included."
    )
    invalid_mime: bool = Field(
        default=False, description="The message is malformed or could not be fully parsed."
    )
    defects: tuple[str, ...] = Field(
        default=(), description="Stable defect codes, e.g. missing_boundary, nesting_too_deep."
    )
    max_depth: int = Field(default=0, ge=0, description="Deepest nesting level reached.")
    part_count: int = Field(default=0, ge=0, description="Number of MIME entities walked.")

    @property
    def stands_in(self) -> bool:
        """Whether this is the stand-in ingest stores when its analysis failed before the parse
        was done: it holds none of the content, which must then be read from the raw MIME."""
        return self.part_count == 0 and ANALYSIS_FAILED in self.defects

    def sender_text(self) -> str:
        """The sender as written, for the detectors: each From, Reply-To and Sender mailbox as
        shown, then those headers' values (a mailbox that did not parse is shown to nobody,
        but its text is still read)."""
        boxes = [*self.from_, *self.reply_to, *(() if self.sender is None else (self.sender,))]
        lines = [line for box in boxes for line in (box.formatted(), box.unparsed) if line]
        lines += [value for name, value in self.headers if name.lower() in SENDER_HEADERS]
        return "\n".join(lines)
