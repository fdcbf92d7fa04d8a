"""Rule ``archives``: zip files opened in memory, their members run through the other rules.

Limits (member count, bytes read, compression ratio, nesting depth 2) come from
``zipscan.LIMITS``. OOXML documents are zips too: they get the bomb and encryption checks but
their members are left to the ``macros`` rule, which owns Office files.
"""

from __future__ import annotations

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks import (
    double_extension,
    eicar,
    executables,
    html_smuggling,
    macros,
    yara_rules,
    zipscan,
)
from mailmoat.ingest.domain.checks.base import CheckFn, Rule, base_name, finding
from mailmoat.ingest.domain.parts import PartPayload

MAX_DEPTH = 2
MEMBER_CHECKS: tuple[CheckFn, ...] = (
    eicar.check,
    yara_rules.check,
    executables.check,
    double_extension.check,
    macros.check,
    html_smuggling.check,
)
_ZIP_EXTENSIONS = ("zip", "jar", "apk", "appx", "msix", "xpi", "nupkg", "zipx")
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})


def check(part: PartPayload) -> list[Finding]:
    """Findings about the archive itself and about every member it was safe to read."""
    return _check_archive(part, depth=1)


def _check_archive(part: PartPayload, depth: int) -> list[Finding]:
    if not _claims_zip(part):
        return []
    scan = zipscan.scan_zip(part.data)
    if scan.unreadable is not None:
        return [finding("archive.unreadable", f"zip cannot be opened: {scan.unreadable}", part)]
    findings = _container_findings(part, scan)
    if _is_ooxml(scan.names):
        return findings
    for number, member in enumerate(scan.members, start=1):
        findings += _check_member(part, member, number, depth)
    return findings


def _claims_zip(part: PartPayload) -> bool:
    named_zip = executables.extension(base_name(part)) in _ZIP_EXTENSIONS
    return zipscan.looks_like_zip(part.data) or named_zip or part.declared_type in _ZIP_TYPES


def _is_ooxml(names: list[str]) -> bool:
    return any(name.lower() == "[content_types].xml" for name in names)


def _container_findings(part: PartPayload, scan: zipscan.ZipScan) -> list[Finding]:
    findings = []
    if scan.encrypted:
        names = ", ".join(scan.encrypted[:5])
        reason = f"password-protected members hide their content from scanning: {names}"
        findings.append(finding("archive.encrypted", reason, part))
    if scan.bomb:
        findings.append(finding("archive.bomb", "zip bomb: " + "; ".join(scan.bomb[:3]), part))
    if scan.unread:
        names = ", ".join(scan.unread[:5])
        reason = f"members too large or damaged to inspect: {names}"
        findings.append(finding("archive.limits", reason, part))
    return findings


def _check_member(
    part: PartPayload, member: zipscan.Member, number: int, depth: int
) -> list[Finding]:
    inner = PartPayload(
        path=f"{part.path}/{number}",
        filename=member.name,
        declared_type="application/octet-stream",
        data=member.data,
    )
    findings = [found for rule in MEMBER_CHECKS for found in rule(inner)]
    if not zipscan.looks_like_zip(member.data):
        return findings
    if depth >= MAX_DEPTH and not _is_ooxml(zipscan.member_names(member.data)):
        reason = f"archive nested deeper than {MAX_DEPTH} levels is not inspected"
        return [*findings, finding("archive.limits", reason, inner)]
    return findings + _check_archive(inner, depth + 1)


RULE = Rule(
    code="archives",
    description="Zip contents checked by the other rules; encrypted zips and zip bombs flagged.",
    emits=("archive.encrypted", "archive.bomb", "archive.limits", "archive.unreadable"),
    check=check,
)
