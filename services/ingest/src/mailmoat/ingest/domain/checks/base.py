"""Shape shared by the L1 attachment rules: a named check over one decoded part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.parts import PartPayload

MAX_SCAN_BYTES = 16 * 1024 * 1024
"""Most bytes of one part any content rule looks at; bounds CPU and memory per part."""

CheckFn = Callable[[PartPayload], list[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One L1 rule: its name, what it looks for, the finding codes it emits and its check."""

    code: str
    description: str
    emits: tuple[str, ...]
    check: CheckFn


def part_label(part: PartPayload) -> str:
    """How a finding names its part: the MIME path (``2``, ``2/3`` for an archive's third
    member), never the file name, which is the sender's text and is shown to no agent."""
    return part.path


def finding(code: str, reason: str, part: PartPayload, start: int = 0, end: int = 0) -> Finding:
    """A finding about ``part``; ``start``/``end`` are byte offsets when the rule knows them."""
    return Finding(code=code, reason=reason, part=part_label(part), start=start, end=end)


def base_name(part: PartPayload) -> str:
    """The file name without any folder (archive members carry their path inside the archive)."""
    if not part.filename:
        return ""
    return PurePosixPath(part.filename.replace("\\", "/")).name


def is_attachment(part: PartPayload) -> bool:
    """Whether the part is a file rather than the message text a reader sees inline."""
    return part.filename is not None or not part.declared_type.startswith("text/")
