"""Test inputs built at run time: the EICAR file, zips (plain, encrypted, bombs), parts."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile

from mailmoat.ingest.domain.parts import PartPayload

# Well-known MD5 of the 68-byte EICAR file; checks these pieces independently of the source.
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
_PIECES = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", "-STANDARD-ANTIVIRUS-TEST-", "FILE!$H+H*")


def eicar() -> bytes:
    """The EICAR test file, assembled here so the repository never holds it in one piece."""
    data = "".join(_PIECES).encode()
    assert hashlib.md5(data).hexdigest() == EICAR_MD5  # noqa: S324  (identifies, not secures)
    return data


def part(
    data: bytes, filename: str | None = None, declared: str = "application/octet-stream"
) -> PartPayload:
    """An attachment part at MIME path 2."""
    return PartPayload(path="2", filename=filename, declared_type=declared, data=data)


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding ``members``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def mark_encrypted(data: bytes) -> bytes:
    """Set general-purpose flag bit 0 (encrypted) in every local and central header."""
    out = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        while start >= 0:
            (flags,) = struct.unpack_from("<H", out, start + flag_offset)
            struct.pack_into("<H", out, start + flag_offset, flags | 0x1)
            start = out.find(signature, start + 4)
    return bytes(out)


def pe_executable() -> bytes:
    """A minimal PE image header: MZ stub pointing at a PE signature."""
    stub = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40))
    return bytes(stub) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(200)
