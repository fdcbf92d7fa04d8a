"""Where the independently written test suites live (``../shared/data/external``)."""

from __future__ import annotations

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
