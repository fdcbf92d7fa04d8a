"""The ``macros`` rule on Office files built at run time (see ``office_samples``)."""

from __future__ import annotations

from mailmoat.ingest.domain.checks import macros
from tests.unit.ingest.checks import office_samples
from tests.unit.ingest.checks.samples import make_zip, part

AUTO_OPEN = 'Sub AutoOpen()\n    Shell "calc.exe"\nEnd Sub\n'
PLAIN = "Function Total(a, b)\n    Total = a + b\nEnd Function\n"


def test_docm_with_auto_open_macro_names_the_trigger() -> None:
    findings = macros.check(part(office_samples.docm(AUTO_OPEN), "report.docm"))
    assert [f.code for f in findings] == ["attachment.macro"]
    assert "run automatically (AutoOpen)" in findings[0].reason
    assert "word/vbaProject.bin" in findings[0].reason
    assert findings[0].part == "2"


def test_word97_document_with_macro_is_found() -> None:
    findings = macros.check(part(office_samples.word97(AUTO_OPEN), "invoice.doc"))
    assert [f.code for f in findings] == ["attachment.macro"]
    assert "AutoOpen" in findings[0].reason


def test_macro_without_auto_run_is_still_a_finding_with_a_weaker_reason() -> None:
    findings = macros.check(part(office_samples.word97(PLAIN), "sheet.doc"))
    assert [(f.code, f.reason) for f in findings] == [("attachment.macro", "VBA macros")]


def test_ole_file_without_vba_is_clean() -> None:
    data = office_samples.compound_file({"WordDocument": b"\xec\xa5" + bytes(510)})
    assert macros.check(part(data, "letter.doc")) == []


def test_docx_without_macros_is_clean() -> None:
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert macros.check(part(data, "letter.docx")) == []


def test_xlsx_with_excel4_macro_sheet_is_found() -> None:
    data = make_zip({"[Content_Types].xml": b"<Types/>", "xl/macrosheets/sheet1.xml": b"<x/>"})
    findings = macros.check(part(data, "book.xlsm"))
    assert [(f.code, f.reason) for f in findings] == [
        ("attachment.macro", "Excel 4.0 (XLM) macro sheet")
    ]


def test_damaged_ole_container_fails_closed() -> None:
    data = office_samples.word97(AUTO_OPEN)[:700]
    findings = macros.check(part(data, "broken.doc"))
    assert [f.code for f in findings] == ["attachment.office_unparseable"]


def test_plain_text_is_never_handed_to_olevba() -> None:
    # olevba would read any text as VBA source; only OLE and zip content reach it.
    assert macros.check(part(AUTO_OPEN.encode(), "macro.txt", "text/plain")) == []
