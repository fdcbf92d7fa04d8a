"""Content type recognised from a part's own bytes (magic numbers), whatever its label says."""

from __future__ import annotations

import struct

OCTET_STREAM = "application/octet-stream"
PE_EXECUTABLE = "application/x-msdownload"
DOS_EXECUTABLE = "application/x-dosexec"
ELF_EXECUTABLE = "application/x-executable"
MACH_O = "application/x-mach-binary"
SCRIPT = "text/x-script"
ZIP = "application/zip"
OLE2 = "application/x-ole-storage"

EXECUTABLE_TYPES = frozenset({PE_EXECUTABLE, DOS_EXECUTABLE, ELF_EXECUTABLE, MACH_O, SCRIPT})

_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", ELF_EXECUTABLE),
    (b"\xfe\xed\xfa\xce", MACH_O),
    (b"\xfe\xed\xfa\xcf", MACH_O),
    (b"\xce\xfa\xed\xfe", MACH_O),
    (b"\xcf\xfa\xed\xfe", MACH_O),
    (b"#!", SCRIPT),
    (b"{\\rtf", "application/rtf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"MSCF", "application/vnd.ms-cab-compressed"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "application/x-ms-shortcut"),
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Stream names stored in an OLE2 directory (UTF-16LE), and the root CLSID of MSI packages.
_OLE2_MARKERS: tuple[tuple[bytes, str], ...] = (
    ("__substg1.0_".encode("utf-16-le"), "application/vnd.ms-outlook"),
    ("WordDocument".encode("utf-16-le"), "application/msword"),
    ("Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
    ("PowerPoint Document".encode("utf-16-le"), "application/vnd.ms-powerpoint"),
    (bytes.fromhex("84100c0000000000c000000000000046"), "application/x-msi"),
)
_OOXML = "application/vnd.openxmlformats-officedocument."
_ZIP_MARKERS: tuple[tuple[str, str], ...] = (
    ("word/", _OOXML + "wordprocessingml.document"),
    ("xl/", _OOXML + "spreadsheetml.sheet"),
    ("ppt/", _OOXML + "presentationml.presentation"),
    ("AndroidManifest.xml", "application/vnd.android.package-archive"),
    ("META-INF/MANIFEST.MF", "application/java-archive"),
)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg")
_ZIP_ENTRIES_READ = 200


def sniff_type(data: bytes) -> str:
    """The content type the bytes are, from magic numbers only (no libmagic)."""
    if not data:
        return "application/x-empty"
    if data.startswith(b"MZ"):
        return _pe_or_dos(data)
    if data.startswith(_ZIP_MAGICS):
        return _zip_kind(data)
    if data.startswith(_OLE2_MAGIC):
        return _ole2_kind(data)
    if data.startswith(b"\xca\xfe\xba\xbe"):
        return _fat_or_java(data)
    for magic, kind in _PREFIXES:
        if data.startswith(magic):
            return kind
    return _sniff_more(data)


def _sniff_more(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    if data[0x8001:0x8006] == b"CD001":
        return "application/x-iso9660-image"
    return _text_kind(data[:4096])


def _pe_or_dos(data: bytes) -> str:
    if len(data) >= 0x40:
        (offset,) = struct.unpack_from("<I", data, 0x3C)
        if data[offset : offset + 4] == b"PE\x00\x00":
            return PE_EXECUTABLE
    return DOS_EXECUTABLE


def _fat_or_java(data: bytes) -> str:
    # Both start CAFEBABE: a fat Mach-O counts architectures (small), a class file its version.
    count = struct.unpack_from(">I", data, 4)[0] if len(data) >= 8 else 0
    return MACH_O if 0 < count < 40 else "application/java-vm"


def _zip_kind(data: bytes) -> str:
    names = _zip_entry_names(data)
    if "mimetype" in names:
        start = data.find(b"mimetype") + len(b"mimetype")
        declared = data[start : start + 80].split(b"PK", 1)[0]
        if declared.startswith(b"application/"):
            return declared.decode("ascii", errors="replace")
    for marker, kind in _ZIP_MARKERS:
        if any(name.startswith(marker) for name in names) and (
            "[Content_Types].xml" in names or not marker.endswith("/")
        ):
            return kind
    return ZIP


def _zip_entry_names(data: bytes) -> set[str]:
    """Names of the local file headers, read without decompressing anything."""
    names: set[str] = set()
    position = data.find(b"PK\x03\x04")
    while position >= 0 and len(names) < _ZIP_ENTRIES_READ and position + 30 <= len(data):
        (name_length,) = struct.unpack_from("<H", data, position + 26)
        names.add(data[position + 30 : position + 30 + name_length].decode("cp437"))
        position = data.find(b"PK\x03\x04", position + 30 + name_length)
    return names


def _ole2_kind(data: bytes) -> str:
    for marker, kind in _OLE2_MARKERS:
        if marker in data:
            return kind
    return OLE2


def _text_kind(head: bytes) -> str:
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(_HTML_STARTS):
        return "text/html"
    if b"\x00" in head:
        return OCTET_STREAM
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            return _mostly_printable(head)
    return "text/plain"


def _mostly_printable(head: bytes) -> str:
    printable = sum(1 for byte in head if byte >= 0x20 or byte in b"\t\r\n\x0c")
    return "text/plain" if printable >= 0.95 * len(head) else OCTET_STREAM
