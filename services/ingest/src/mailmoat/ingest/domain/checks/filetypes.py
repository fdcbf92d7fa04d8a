"""Content sniffing for the dangerous file types L1 looks for (magic bytes, not names)."""

from __future__ import annotations

import re
import struct

from mailmoat.ingest.domain.checks import zipscan

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LNK_HEADER = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F"
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
# Root-entry class ids of Windows Installer packages, patches and transforms.
_MSI_CLSIDS = {
    bytes.fromhex("84100c0000000000c000000000000046"),
    bytes.fromhex("86100c0000000000c000000000000046"),
    bytes.fromhex("82100c0000000000c000000000000046"),
}
_ISO_OFFSETS = (0x8001, 0x8801, 0x9001)
_SCRIPT_HEAD = 4096
_SHEBANG = re.compile(rb"\A(?:\xef\xbb\xbf)?#!\s*/")
_HTA = re.compile(rb"<hta:application\b", re.IGNORECASE)
_WSF = re.compile(rb"<job\b[^>]*>.*?<script\s+language\s*=", re.IGNORECASE | re.DOTALL)
_BATCH = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*@echo\s+off\b", re.IGNORECASE)


def sniff_binary(data: bytes) -> str | None:
    """Name of the executable or image format ``data`` starts with, or ``None``."""
    checks = (_pe, _elf_macho, _lnk, _msi, _chm, _disk_image, _package)
    for sniff in checks:
        kind = sniff(data)
        if kind:
            return kind
    return None


def sniff_script(data: bytes) -> str | None:
    """Name of the script type the text looks like (shebang, HTA, WSF, batch), or ``None``."""
    head = data[:_SCRIPT_HEAD]
    if _SHEBANG.match(head):
        return "shebang script"
    if _HTA.search(head):
        return "HTML application (HTA)"
    if _WSF.search(head):
        return "Windows Script File"
    if _BATCH.match(head):
        return "batch script"
    return None


def _pe(data: bytes) -> str | None:
    if not data.startswith(b"MZ") or len(data) < 0x40:
        return None
    (offset,) = struct.unpack_from("<I", data, 0x3C)
    if data[offset : offset + 4] == b"PE\x00\x00":
        return "Windows PE executable"
    return None


def _elf_macho(data: bytes) -> str | None:
    if data.startswith(b"\x7fELF"):
        return "ELF executable"
    if data.startswith(_MACHO):
        return "Mach-O executable"
    # Fat Mach-O and Java classes share this magic; both are programs.
    if data.startswith(b"\xca\xfe\xba\xbe"):
        return "Mach-O universal binary or Java class"
    return None


def _lnk(data: bytes) -> str | None:
    return "Windows shortcut (.lnk)" if data.startswith(_LNK_HEADER) else None


def _msi(data: bytes) -> str | None:
    if not data.startswith(OLE_MAGIC) or len(data) < 512:
        return None
    (shift,) = struct.unpack_from("<H", data, 0x1E)
    (first_dir,) = struct.unpack_from("<I", data, 0x30)
    if shift not in (9, 12):
        return None
    root = (first_dir + 1) << shift
    if data[root + 0x50 : root + 0x60] in _MSI_CLSIDS:
        return "Windows Installer package"
    return None


def _chm(data: bytes) -> str | None:
    return "compiled HTML help (.chm)" if data.startswith(b"ITSF") else None


def _disk_image(data: bytes) -> str | None:
    if any(data[offset : offset + 5] == b"CD001" for offset in _ISO_OFFSETS):
        return "ISO 9660 disk image"
    if data.startswith(b"vhdxfile"):
        return "VHDX disk image"
    if data.startswith(b"conectix") or data[-512:].startswith(b"conectix"):
        return "VHD disk image"
    return None


def _package(data: bytes) -> str | None:
    if not zipscan.looks_like_zip(data):
        return None
    names = {name.lower() for name in zipscan.member_names(data)}
    if "meta-inf/manifest.mf" in names and any(n.endswith(".class") for n in names):
        return "Java archive"
    if "appxmanifest.xml" in names:
        return "Windows app package (appx/msix)"
    return None
