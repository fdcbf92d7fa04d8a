"""ValiMail ARC validation suite (RFC 8617) against ``verify_arc``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mailmoat.ingest.auth.arc import verify_arc
from tests.support.external import external, report

# The suite writes an empty cv where the newest seal itself says cv=fail ("chain terminated");
# ArcResult has no empty verdict and RFC 8617 5.2 calls that chain failed, so we answer fail.
TERMINATED = ("fail", "suite expects an empty cv for a terminated chain; RFC 8617 5.2 says fail")
EXCEPTIONS: dict[str, tuple[str, str]] = {
    "cv_fail_i1_as_cv_fail": TERMINATED,
    "cv_fail_i2_as2_fail": TERMINATED,
    "cv_fail_i2_as1_fail": TERMINATED,
}


class SuiteZone:
    """The scenario's ``txt-records`` as a Resolver."""

    def __init__(self, records: dict[str, str]) -> None:
        self._records = {name.lower().rstrip("."): text for name, text in records.items()}

    def lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        text = self._records.get(name.lower().rstrip(".")) if rdtype == "TXT" else None
        return () if text is None else (text,)

    def exists(self, name: str) -> bool:
        return name.lower().rstrip(".") in self._records


def crlf(message: str) -> bytes:
    return message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def expected_cv(case: dict[str, Any]) -> str:
    return str(case.get("cv") or "").strip().lower()


def load_cases(path: Path) -> list[tuple[str, dict[str, Any], SuiteZone]]:
    cases = []
    for scenario in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        zone = SuiteZone(scenario.get("txt-records") or {})
        cases += [(case_id, case, zone) for case_id, case in scenario["tests"].items()]
    return cases


def test_arc_validation_suite() -> None:
    cases = load_cases(external("arc_test_suite", "arc-draft-validation-tests.yml"))
    mismatches: dict[str, str] = {}
    excepted: set[str] = set()
    for case_id, case, zone in cases:
        got = verify_arc(crlf(case["message"]), zone).result
        if case_id in EXCEPTIONS:
            assert got == EXCEPTIONS[case_id][0], case_id
            if got != expected_cv(case):
                excepted.add(case_id)
        elif got != expected_cv(case):
            mismatches[case_id] = f"expected {expected_cv(case)!r}, got {got!r}"
    assert len(cases) == 171
    assert mismatches == {}
    assert excepted == set(EXCEPTIONS), "an exception now passes: drop it from EXCEPTIONS"
    passed = len(cases) - len(excepted)
    report("arc validation", passed, len(cases), len(excepted))
