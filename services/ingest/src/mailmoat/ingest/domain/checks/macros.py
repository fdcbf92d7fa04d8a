"""Rule ``macros``: Office documents carrying VBA or Excel 4.0 macros (OLE2 and OOXML).

A file that claims to be an Office container but cannot be parsed is reported as
``attachment.office_unparseable``: malformed documents that Office repairs but scanners
give up on are a known way past filters, so L1 fails closed rather than letting them by.
"""

from __future__ import annotations

import warnings
from typing import Any

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks import zipscan
from mailmoat.ingest.domain.checks.base import Rule, finding
from mailmoat.ingest.domain.checks.filetypes import OLE_MAGIC
from mailmoat.ingest.domain.parts import PartPayload

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_SOURCE_CHARS = 1024 * 1024
_CODE = "attachment.macro"
_BROKEN = "attachment.office_unparseable"


def check(part: PartPayload) -> list[Finding]:
    """A finding for each macro-bearing container in the part (the file or its OLE members)."""
    if part.data.startswith(OLE_MAGIC):
        return _check_ole(part, part.data, "")
    if zipscan.looks_like_zip(part.data):
        return _check_ooxml(part)
    return []


def _check_ole(part: PartPayload, data: bytes, where: str) -> list[Finding]:
    if len(data) > MAX_DOCUMENT_BYTES:
        return [finding(_BROKEN, f"Office document{where} too large to inspect", part)]
    try:
        found, autoexec = _inspect(data)
    except Exception as exc:  # oletools raises many kinds on damaged files
        reason = f"Office container{where} could not be parsed ({type(exc).__name__})"
        return [finding(_BROKEN, reason, part)]
    if not found:
        return []
    if autoexec:
        keywords = ", ".join(sorted(set(autoexec)))
        return [finding(_CODE, f"VBA macros{where} that run automatically ({keywords})", part)]
    return [finding(_CODE, f"VBA macros{where}", part)]


def _check_ooxml(part: PartPayload) -> list[Finding]:
    scan = zipscan.scan_zip(part.data)
    names = [name.lower() for name in scan.names]
    if "[content_types].xml" not in names:
        return []
    findings = []
    if any(name.startswith("xl/macrosheets/") for name in names):
        findings.append(finding(_CODE, "Excel 4.0 (XLM) macro sheet", part))
    for member in scan.members:
        if member.data.startswith(OLE_MAGIC):
            findings += _check_ole(part, member.data, f" in {member.name}")
    if not findings and any(n.endswith("vbaproject.bin") for n in names):
        findings.append(finding(_CODE, "VBA project (vbaProject.bin) present", part))
    return findings


def _inspect(data: bytes) -> tuple[bool, list[str]]:
    """Whether the OLE data holds VBA, and the auto-run keywords found in its source."""
    olevba = _olevba()
    parser = olevba.VBA_Parser("attachment", data=data, disable_pcode=True)
    try:
        if not parser.detect_vba_macros():
            return False, []
        return True, _autoexec_keywords(olevba, parser)
    finally:
        parser.close()


def _autoexec_keywords(olevba: Any, parser: Any) -> list[str]:
    source = []
    try:
        for _, _, _, code in parser.extract_macros():
            source.append(str(code or ""))
    except Exception:  # macros exist; unreadable source only loses the keyword detail
        return []
    text = "\n".join(source)[:MAX_SOURCE_CHARS]
    return [str(keyword) for keyword, _ in olevba.detect_autoexec(text)]


def _olevba() -> Any:
    # oletools' import trips a pyparsing deprecation warning that is not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools import olevba

        return olevba


RULE = Rule(
    code="macros",
    description="Office documents with VBA or XLM macros; auto-run macros named in the reason.",
    emits=(_CODE, _BROKEN),
    check=check,
)
