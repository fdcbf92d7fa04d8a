"""``RULES`` and ``run_checks``: every rule runs on every part; a crashing rule fails closed."""

from __future__ import annotations

import pytest

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain import checks
from mailmoat.ingest.domain.checks import Rule, run_checks
from mailmoat.ingest.domain.parts import PartPayload
from tests.unit.ingest.checks.samples import eicar, make_zip, part, pe_executable


def test_registry_lists_each_rule_once_with_a_description() -> None:
    codes = [rule.code for rule in checks.RULES]
    assert codes == [
        "eicar", "yara", "macros", "executables", "double_extension", "archives", "html_smuggling"
    ]  # fmt: skip
    assert all(rule.description and rule.emits for rule in checks.RULES)


def test_clean_message_has_no_findings() -> None:
    parts = [
        PartPayload("1", None, "text/plain", b"Hello, lunch on Friday?"),
        PartPayload("2", "menu.pdf", "application/pdf", b"%PDF-1.7\n%%EOF"),
        PartPayload("3", "photos.zip", "application/zip", make_zip({"a.jpg": b"\xff\xd8\xff"})),
    ]
    assert run_checks(parts) == ()


def test_findings_come_in_part_order() -> None:
    parts = [
        PartPayload("1", None, "text/plain", eicar()),
        PartPayload("2", "invoice.pdf.exe", "application/pdf", pe_executable()),
    ]
    assert [(f.code, f.part) for f in run_checks(parts)] == [
        ("malware.eicar", "1"),
        ("attachment.executable", "2"),
        ("attachment.double_extension", "2"),
    ]


def test_crashing_rule_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_: PartPayload) -> list[Finding]:
        raise ValueError("bug")

    broken = Rule(code="broken", description="always fails", emits=("x",), check=explode)
    monkeypatch.setattr(checks, "RULES", (broken,))
    findings = run_checks([part(b"x", "a.txt")])
    assert [(f.code, f.reason) for f in findings] == [
        ("check.error", "rule broken failed on this part (ValueError)")
    ]
