"""What a detector returns, and the protocol every detector implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import ScanContent


@dataclass(frozen=True)
class Assessment:
    """A detector's judgement of one mail."""

    score: int
    """0 (surely benign) to 100 (surely an attack)."""
    flagged: bool
    findings: tuple[Finding, ...]
    coverage: tuple[str, ...] = ()
    """The ``Segment.part`` names the detector read completely."""


class Detector(Protocol):
    """An injection detector; the primary and checker sides must use different methods."""

    name: str
    version: str

    async def assess(self, content: ScanContent) -> Assessment:
        """Judge one mail. Raising counts as a flag (fail closed) in the caller."""
        ...
