"""Decoded MIME leaf parts, handed from the parser to the L1 checks (in memory only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartPayload:
    """One leaf part of a message, its transfer encoding already undone."""

    path: str
    """MIME part number, e.g. ``"1"``, ``"2.1"`` (``"0"`` for a single-part message)."""
    filename: str | None
    """File name from Content-Disposition or Content-Type, decoded; ``None`` when absent."""
    declared_type: str
    """Content type the sender declared, lower case, e.g. ``"application/pdf"``."""
    data: bytes
    """Decoded payload, possibly cut at the parser's per-part limit."""
