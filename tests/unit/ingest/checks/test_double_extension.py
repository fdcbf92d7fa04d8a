"""The ``double_extension`` rule: decoy extensions, bidi tricks, padding, trailing dots."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.checks import double_extension
from tests.unit.ingest.checks.samples import part


def _codes(name: str) -> list[str]:
    return [f.code for f in double_extension.check(part(b"x", name))]


@pytest.mark.parametrize(
    ("name", "decoy", "real"),
    [
        ("invoice.pdf.exe", "pdf", "exe"),
        ("Photo.JPG.scr", "jpg", "scr"),
        ("scan.docx_.js", "docx", "js"),
        ("archive/readme.txt.vbs", "txt", "vbs"),
    ],
)
def test_decoy_before_dangerous_extension(name: str, decoy: str, real: str) -> None:
    findings = double_extension.check(part(b"x", name))
    assert [(f.code, f.reason) for f in findings] == [
        ("attachment.double_extension", f"file name shows .{decoy} but is really .{real}")
    ]


def test_padded_name_is_both_double_and_deceptive() -> None:
    assert _codes("photo.jpg          .scr") == [
        "attachment.double_extension",
        "attachment.deceptive_name",
    ]


def test_rtlo_name_is_deceptive() -> None:
    # A reader sees "invoiceexe.pdf"; Windows runs it as an .exe.
    findings = double_extension.check(part(b"x", "invoice\u202efdp.exe"))
    assert [f.code for f in findings] == ["attachment.deceptive_name"]
    assert "bidirectional" in findings[0].reason


def test_trailing_dots_and_spaces_are_deceptive() -> None:
    findings = double_extension.check(part(b"x", "report.exe. . "))
    assert [f.code for f in findings] == ["attachment.deceptive_name"]
    assert "trailing dots" in findings[0].reason


@pytest.mark.parametrize(
    "name",
    ["report.pdf", "backup.tar.gz", "setup.v2.exe", "my.photo.jpg", "a.pdf.txt", "Q3 plan.docx"],
)
def test_ordinary_names_are_clean(name: str) -> None:
    assert _codes(name) == []


def test_part_without_name_is_skipped() -> None:
    assert double_extension.check(part(b"x", None, "text/plain")) == []
