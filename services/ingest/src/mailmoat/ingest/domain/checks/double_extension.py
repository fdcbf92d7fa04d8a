"""Rule ``double_extension``: file names built to hide their real type from a reader."""

from __future__ import annotations

import re

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks.base import Rule, base_name, finding
from mailmoat.ingest.domain.checks.executables import DANGEROUS_EXTENSIONS, extension
from mailmoat.ingest.domain.parts import PartPayload

DECOY_EXTENSIONS = frozenset(
    {
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "rtf", "txt", "csv",
        "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "svg", "mp3", "mp4",
        "wav", "avi", "mov", "zip", "rar", "7z", "html", "htm", "eml", "msg", "xml", "json",
    }
)  # fmt: skip
# Bidirectional controls reorder what a reader sees ("invoice\u202egpj.exe" shows "exe.jpg").
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DECOY_THEN_REAL = re.compile(r"\.([A-Za-z0-9]{1,5})[\s._-]*\.([A-Za-z0-9]{1,12})[\s.]*$")
_PADDING = re.compile(r"\s{3,}|[\u2000-\u200b\u3000]")


def check(part: PartPayload) -> list[Finding]:
    """Findings for a decoy extension before a dangerous one and for deceptive characters."""
    name = base_name(part)
    if not name:
        return []
    return _double_extension(part, name) + _deceptive(part, name)


def _double_extension(part: PartPayload, name: str) -> list[Finding]:
    match = _DECOY_THEN_REAL.search(_BIDI.sub("", name))
    if not match:
        return []
    decoy, real = match.group(1).lower(), match.group(2).lower()
    if decoy not in DECOY_EXTENSIONS or real not in DANGEROUS_EXTENSIONS:
        return []
    reason = f"file name shows .{decoy} but is really .{real}"
    return [finding("attachment.double_extension", reason, part)]


def _deceptive(part: PartPayload, name: str) -> list[Finding]:
    reasons = []
    if _BIDI.search(name):
        reasons.append("bidirectional control characters reverse how the name reads")
    if name != name.rstrip(". ") and extension(name):
        reasons.append("trailing dots or spaces, which Windows drops, hide the extension")
    if _PADDING.search(name):
        reasons.append("long runs of blank characters push the real extension out of view")
    if not reasons:
        return []
    return [finding("attachment.deceptive_name", "; ".join(reasons), part)]


RULE = Rule(
    code="double_extension",
    description="Decoy extensions (invoice.pdf.exe), RTLO/bidi tricks, padding, trailing dots.",
    emits=("attachment.double_extension", "attachment.deceptive_name"),
    check=check,
)
