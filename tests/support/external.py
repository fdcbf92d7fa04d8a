"""Where the independently written test suites live (``../shared/data/external``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = PROJECT_ROOT.parent / "shared" / "data" / "external"


def external(*parts: str) -> Path:
    """Path into the external suites; the test fails loudly when the suite is missing."""
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"external suite missing: {path}")
    return path


SUITE_REPORTS: list[str] = []


def report(suite: str, passed: int, total: int, exceptions: int = 0) -> None:
    """Record a suite's pass count; the terminal summary of ``make test`` prints every one."""
    line = f"{suite}: {passed}/{total} passed"
    if exceptions:
        line += f" ({exceptions} documented exceptions)"
    SUITE_REPORTS.append(line)


def xss_suites() -> dict[str, list[str]]:
    """The XSS vectors by suite: DOMPurify's, the HTML5 Security Cheatsheet's, OWASP's and
    bleach's."""
    bleach = sorted(external("bleach", "data").glob("*.test"))
    return {
        "dompurify": [
            v["payload"] for v in json.loads(external("dompurify", "expect.json").read_text())
        ],
        "h5sc": [v["payload"] for v in json.loads(external("h5sc", "vectors.json").read_text())],
        "owasp_xss": [
            v["payload"] for v in json.loads(external("owasp_xss", "vectors.json").read_text())
        ],
        "bleach": [p.read_text().split("\n--\n")[0] for p in bleach],
    }
