"""Bounds on the work done per message, and the defect codes the parser records."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MimeLimits:
    """Caps that keep parsing one hostile message bounded in time and memory."""

    max_raw_bytes: int = 64 * MIB
    """Raw message bytes looked at; the rest is ignored and flagged."""
    max_depth: int = 20
    """Deepest multipart / message nesting walked; deeper entities stay opaque."""
    max_parts: int = 500
    """MIME entities walked per message."""
    max_headers: int = 1000
    """Header fields read per entity."""
    max_header_bytes: int = 16 * 1024
    """Longest raw header field (name, value and folding) kept."""
    max_header_chars: int = 2048
    """Longest decoded header value kept for display."""
    max_part_bytes: int = 32 * MIB
    """Decoded bytes kept per leaf part."""
    max_total_bytes: int = 96 * MIB
    """Decoded bytes kept over all parts."""
    max_html_chars: int = 1_000_000
    """HTML characters handed to the HTML parser per message."""
    max_text_chars: int = 2_000_000
    """Characters kept of each text body."""
    max_fragment_chars: int = 8192
    """Characters kept of one hidden fragment."""
    max_fragments: int = 500
    """Hidden fragments kept per message."""
    max_addresses: int = 200
    """Mailboxes kept per address header."""
    max_attachment_text_chars: int = 2_000_000
    """Characters of text kept from all attachments together; an attachment whose text does not
    fit is ``too_large`` (a coverage gap the detectors flag), so the scan stays bounded."""


DEFAULT_LIMITS = MimeLimits()

# Defect codes: stable strings stored with the message and matched by later stages.
UNPARSEABLE = "unparseable"
NO_HEADERS = "no_headers"
PART_ERROR = "part_error"
MISSING_BOUNDARY = "missing_boundary"
MISSING_START_BOUNDARY = "missing_start_boundary"
MISSING_FINAL_BOUNDARY = "missing_final_boundary"
NESTING_TOO_DEEP = "nesting_too_deep"
TOO_MANY_PARTS = "too_many_parts"
TOO_MANY_HEADERS = "too_many_headers"
HEADER_TOO_LONG = "header_too_long"
BAD_HEADER_LINE = "bad_header_line"
MISSING_HEADER_SEPARATOR = "missing_header_separator"
BAD_ENCODING = "bad_encoding"
UNKNOWN_TRANSFER_ENCODING = "unknown_transfer_encoding"
UNKNOWN_CHARSET = "unknown_charset"
BAD_CHARSET_DATA = "bad_charset_data"
BAD_ADDRESS = "bad_address"
FROM_DISPLAY_MISMATCH = "from_display_mismatch"
MULTIPLE_FROM = "multiple_from"
MESSAGE_TOO_LARGE = "message_too_large"
PART_TRUNCATED = "part_truncated"
TOTAL_SIZE_EXCEEDED = "total_size_exceeded"
HTML_TRUNCATED = "html_truncated"
HTML_PARSE_ERROR = "html_parse_error"
TEXT_TRUNCATED = "text_truncated"

MALFORMED = frozenset(
    {
        UNPARSEABLE,
        NO_HEADERS,
        PART_ERROR,
        MISSING_BOUNDARY,
        MISSING_START_BOUNDARY,
        MISSING_FINAL_BOUNDARY,
        NESTING_TOO_DEEP,
        TOO_MANY_PARTS,
        TOO_MANY_HEADERS,
        HEADER_TOO_LONG,
        BAD_HEADER_LINE,
        BAD_ENCODING,
        UNKNOWN_TRANSFER_ENCODING,
        BAD_ADDRESS,
        MULTIPLE_FROM,
        HTML_PARSE_ERROR,
    }
)
"""Defects that make a message invalid MIME; the others are notes (charset, truncation)."""
