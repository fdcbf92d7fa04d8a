"""Rule ``executables``: programs, scripts and disk images, by content first and name second."""

from __future__ import annotations

import re

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks import filetypes
from mailmoat.ingest.domain.checks.base import Rule, base_name, finding, is_attachment
from mailmoat.ingest.domain.parts import PartPayload

DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "dll", "scr", "com", "pif", "cpl", "msi", "msp", "msc", "jar", "js", "jse",
        "vbs", "vbe", "wsf", "wsh", "wsc", "ps1", "psm1", "psd1", "bat", "cmd", "hta", "lnk",
        "iso", "img", "vhd", "vhdx", "chm", "reg", "inf", "sct", "appx", "msix", "appinstaller",
        "application", "gadget", "url", "scf", "xll", "sh", "elf", "app", "dmg", "pkg", "apk",
    }
)  # fmt: skip
DANGEROUS_TYPES = frozenset(
    {
        "application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
        "application/x-executable", "application/x-ms-shortcut", "application/hta",
        "application/x-sh", "application/x-msi", "application/x-ms-installer",
        "application/java-archive", "application/x-iso9660-image",
        "application/vnd.microsoft.portable-executable",
    }
)  # fmt: skip
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,12})[\s.]*$")


def check(part: PartPayload) -> list[Finding]:
    """One finding per dangerous part, naming every signal that fired."""
    signals = _content_signals(part) + _label_signals(part)
    if not signals:
        return []
    return [finding("attachment.executable", "; ".join(signals), part)]


def extension(name: str) -> str:
    """Last extension, lower case, ignoring the trailing dots and spaces Windows drops."""
    match = _EXTENSION.search(name)
    return match.group(1).lower() if match else ""


def _content_signals(part: PartPayload) -> list[str]:
    kind = filetypes.sniff_binary(part.data)
    if kind is None and is_attachment(part):
        kind = filetypes.sniff_script(part.data)
    return [f"{kind} by content"] if kind else []


def _label_signals(part: PartPayload) -> list[str]:
    signals = []
    ext = extension(base_name(part))
    if ext in DANGEROUS_EXTENSIONS:
        signals.append(f"dangerous file type .{ext} by name")
    if part.declared_type in DANGEROUS_TYPES:
        signals.append(f"declared as {part.declared_type}")
    return signals


RULE = Rule(
    code="executables",
    description="Executables, scripts, shortcuts, installers and disk images (content, then name).",
    emits=("attachment.executable",),
    check=check,
)
