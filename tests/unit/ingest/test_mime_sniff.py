"""Attachment types are sniffed from the bytes: a renamed executable is still an executable."""

from __future__ import annotations

import base64
import io
import struct
import zipfile

import pytest

from mailmoat.ingest.domain.mime import parse_message
from mailmoat.ingest.domain.mime.sniff import EXECUTABLE_TYPES, sniff_type


def _pe() -> bytes:
    header = bytearray(b"MZ" + b"\x00" * 0x3E)
    struct.pack_into("<I", header, 0x3C, 0x40)
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 64


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return buffer.getvalue()


def _ole2(stream_name: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + stream_name.encode("utf-16-le")


def _mail_with_attachment(data: bytes, filename: str, declared: str) -> bytes:
    encoded = base64.encodebytes(data).decode()
    return (
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: invoice\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        "--m\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        f'--m\r\nContent-Type: {declared}; name="{filename}"\r\n'
        f'Content-Disposition: attachment; filename="{filename}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--m--\r\n"
    ).encode()


def test_exe_renamed_pdf_is_sniffed_as_executable() -> None:
    parsed = parse_message(_mail_with_attachment(_pe(), "invoice.pdf", "application/pdf"))
    (attachment,) = parsed.message.attachments
    assert (attachment.filename, attachment.declared_type) == ("invoice.pdf", "application/pdf")
    assert attachment.sniffed_type == "application/x-msdownload"
    assert attachment.sniffed_type in EXECUTABLE_TYPES
    assert attachment.disposition == "attachment"
    assert attachment.size == len(_pe())
    assert [part.data for part in parsed.parts if part.path == "2"] == [_pe()]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_pe(), "application/x-msdownload"),
        (b"MZ\x90\x00", "application/x-dosexec"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 20, "application/x-executable"),
        (b"\xcf\xfa\xed\xfe" + b"\x00" * 20, "application/x-mach-binary"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "application/x-mach-binary"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "application/java-vm"),
        (b"#!/bin/sh\nrm -rf ~\n", "text/x-script"),
        (
            _zip("[Content_Types].xml", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            _zip("[Content_Types].xml", "xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            _zip("[Content_Types].xml", "ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (_zip("readme.txt", "word/fake.txt"), "application/zip"),
        (_zip("META-INF/MANIFEST.MF", "a.class"), "application/java-archive"),
        (_ole2("WordDocument"), "application/msword"),
        (_ole2("Workbook"), "application/vnd.ms-excel"),
        (_ole2("__substg1.0_0037001F"), "application/vnd.ms-outlook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes.fromhex("84100c0000000000c000000000000046"),
            "application/x-msi",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "application/x-ole-storage"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"{\\rtf1\\ansi", "application/rtf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"BZh91AY&SY", "application/x-bzip2"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html"),
        ("Grüße, plain text\n".encode(), "text/plain"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
        (b"", "application/x-empty"),
    ],
)
def test_sniffed_types(data: bytes, expected: str) -> None:
    assert sniff_type(data) == expected


def test_truncated_pe_header_does_not_break_sniffing() -> None:
    header = bytearray(b"MZ" + b"\x00" * 0x3E)
    struct.pack_into("<I", header, 0x3C, 0xFFFFFFF0)
    assert sniff_type(bytes(header)) == "application/x-dosexec"
