"""MIME parsing of inbound mail into a StructuredMessage and decoded parts, bounded and total."""

from __future__ import annotations

from mailmoat.ingest.domain.mime.limits import DEFAULT_LIMITS, MimeLimits
from mailmoat.ingest.domain.mime.parse import ParsedMail, parse_message

__all__ = ["DEFAULT_LIMITS", "MimeLimits", "ParsedMail", "parse_message"]
