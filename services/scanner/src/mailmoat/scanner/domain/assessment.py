"""What a detector returns, and the protocol every detector implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mailmoat.common.events import Finding
from mailmoat.common.mailtext import MailText


@dataclass(frozen=True)
class Assessment:
    """A detector's judgement of one mail."""

    score: int
    flagged: bool
    findings: tuple[Finding, ...]


class Detector(Protocol):
    """An injection detector; the primary and checker sides must use different methods."""

    name: str
    version: str

    def assess(self, mail: MailText) -> Assessment:
        """Judge one mail."""
        ...
