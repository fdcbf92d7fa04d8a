"""Chooses the DNS resolver from settings: a zone file (air-gapped, tests) or live DNS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mailmoat.ingest.adapters.dns import TimedResolver
from mailmoat.ingest.adapters.dns.live import LiveResolver
from mailmoat.ingest.adapters.dns.static import StaticResolver


def build_resolver(
    zone_file: Path | None, timeout_seconds: float, nameservers: Sequence[str], port: int = 53
) -> TimedResolver:
    """A StaticResolver over ``zone_file`` (a file or a directory) when given, else live DNS."""
    if zone_file is not None:
        return StaticResolver.from_zone_file(zone_file)
    return LiveResolver(timeout_seconds=timeout_seconds, nameservers=nameservers, port=port)
