"""Rule ``html_smuggling``: HTML or SVG that assembles a file inside the reader's browser."""

from __future__ import annotations

import re

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks.base import MAX_SCAN_BYTES, Rule, base_name, finding
from mailmoat.ingest.domain.checks.executables import extension
from mailmoat.ingest.domain.parts import PartPayload

_HTML_TYPES = frozenset({"text/html", "image/svg+xml", "application/xhtml+xml"})
_HTML_EXTENSIONS = frozenset({"html", "htm", "shtml", "xhtml", "svg", "mht", "mhtml"})
_FLAGS = re.IGNORECASE
_SAVE = re.compile(r"msSaveOrOpenBlob|msSaveBlob|URL\s*\.\s*createObjectURL", _FLAGS)
_DOWNLOAD = re.compile(r"\.\s*download\s*=|\.\s*setAttribute\s*\(\s*['\"]download|\.click\s*\(")
_BUILD = re.compile(r"new\s+(?:Blob|File)\s*\(|Uint8Array|\batob\s*\(|charCodeAt\s*\(", _FLAGS)
# The look-behind starts a match only where a run starts, keeping the search linear.
_BLOB = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{1024}")
_DATA_DOWNLOAD = re.compile(
    r"<a\b[^>]*\bhref\s*=\s*['\"]?\s*data:(?!image/)[^'\">]*;base64[^>]*\bdownload\b"
    r"|<a\b[^>]*\bdownload\b[^>]*\bhref\s*=\s*['\"]?\s*data:(?!image/)[^'\">]*;base64",
    _FLAGS,
)
_DATA_NAVIGATION = re.compile(
    r"(?:window\.|document\.|top\.)?location(?:\.href)?\s*(?:=|\.assign\s*\(|\.replace\s*\()"
    r"\s*['\"`]\s*data:(?!image/)",
    _FLAGS,
)


def check(part: PartPayload) -> list[Finding]:
    """A finding when the markup can drop a file: script-built blobs or data: downloads."""
    if not _is_markup(part):
        return []
    text = part.data[:MAX_SCAN_BYTES].decode("utf-8", errors="replace")
    reasons = _script_assembly(text) + _data_url_tricks(text)
    if not reasons:
        return []
    return [finding("html.smuggling", "HTML smuggling: " + "; ".join(reasons), part)]


def _is_markup(part: PartPayload) -> bool:
    return part.declared_type in _HTML_TYPES or extension(base_name(part)) in _HTML_EXTENSIONS


def _script_assembly(text: str) -> list[str]:
    """A large encoded payload turned into a Blob and handed to the browser to save."""
    if not (_SAVE.search(text) and _BUILD.search(text) and _BLOB.search(text)):
        return []
    if not _DOWNLOAD.search(text) and "msSave" not in text:
        return []
    return ["script decodes a large base64 payload into a Blob and saves it"]


def _data_url_tricks(text: str) -> list[str]:
    reasons = []
    if _DATA_DOWNLOAD.search(text):
        reasons.append("link downloads an embedded base64 file (data: URL with download)")
    if _DATA_NAVIGATION.search(text):
        reasons.append("script navigates the window to a data: URL")
    return reasons


RULE = Rule(
    code="html_smuggling",
    description="HTML/SVG building files in the browser (Blob + createObjectURL, data: downloads).",
    emits=("html.smuggling",),
    check=check,
)
