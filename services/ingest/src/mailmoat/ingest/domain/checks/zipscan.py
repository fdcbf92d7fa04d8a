"""Bounded reading of zip containers (archives, OOXML documents) for the L1 rules."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """How much of one container the rules will read before calling it a bomb or stopping."""

    max_members: int = 1000
    max_member_bytes: int = 16 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024
    max_declared_total: int = 1024 * 1024 * 1024
    max_ratio: int = 100
    ratio_floor: int = 1024 * 1024
    """Ratios only count for members at least this large (tiny files compress absurdly well)."""


LIMITS = ZipLimits()


@dataclass(frozen=True, slots=True)
class Member:
    """One readable member of a container."""

    name: str
    data: bytes


@dataclass(slots=True)
class ZipScan:
    """What reading a container found; the rules turn the lists into findings."""

    members: list[Member] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    encrypted: list[str] = field(default_factory=list)
    bomb: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    unreadable: str | None = None


def looks_like_zip(data: bytes) -> bool:
    """Zip by its first bytes (a local file header, or the end record of an empty archive)."""
    return data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC))


def member_names(data: bytes, limit: int = 2000) -> list[str]:
    """The first ``limit`` names in the central directory; empty when it is not a zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [info.filename for info in archive.infolist()[:limit]]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return []


def scan_zip(data: bytes, limits: ZipLimits = LIMITS) -> ZipScan:
    """Read the members within ``limits``; damage never raises, it is reported in the scan."""
    scan = ZipScan()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _read_members(archive, limits, scan)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        scan.unreadable = f"{type(exc).__name__}: {exc}"[:200]
    return scan


def _read_members(archive: zipfile.ZipFile, limits: ZipLimits, scan: ZipScan) -> None:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    scan.names = [info.filename for info in infos[: limits.max_members]]
    if len(infos) > limits.max_members:
        scan.bomb.append(f"{len(infos)} members (more than {limits.max_members})")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_declared_total:
        scan.bomb.append(f"{declared} bytes uncompressed in all")
    budget = limits.max_total_bytes
    for info in infos[: limits.max_members]:
        budget -= _read_member(archive, info, limits, budget, scan)


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: int, scan: ZipScan
) -> int:
    if info.flag_bits & 0x1:
        scan.encrypted.append(info.filename)
        return 0
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size >= limits.ratio_floor and ratio > limits.max_ratio:
        scan.bomb.append(f"{info.filename} expands {ratio:.0f}x to {info.file_size} bytes")
        return 0
    cap = min(limits.max_member_bytes, budget)
    if info.file_size > cap:
        scan.unread.append(info.filename)
        return 0
    try:
        with archive.open(info) as stream:
            # zipfile stops at the declared size, so a lying header cannot make this grow.
            data = stream.read(cap)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        scan.unread.append(info.filename)
        return 0
    scan.members.append(Member(info.filename, data))
    return len(data)
