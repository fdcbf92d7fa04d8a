"""The OpenSPF RFC 7208 (and RFC 4408) test suites run against check_spf over an in-memory zone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.spf import check_spf
from tests.support.external import external, report

# RFC 7208 suite: every case must pass.
# The suites name the receiver's own default explanation "DEFAULT".
DEFAULT_EXPLANATION = "SPF fail - not authorized"

QUERIED_TYPES = ("TXT", "SPF", "A", "AAAA", "MX", "PTR", "CNAME")

RFC7208_EXCEPTIONS: dict[str, str] = {}

# The RFC 4408 suite predates RFC 7208, which changed these behaviours on purpose.
RFC4408_EXCEPTIONS: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    """One suite test with the zone of the scenario it belongs to."""

    case_id: str
    test: Mapping[str, Any]
    resolver: StaticResolver


def _answer(rdtype: str, value: Any) -> str:
    if rdtype == "MX":
        return f"{value[0]} {value[1]}"
    if isinstance(value, list):
        return "".join(value)  # several character strings of one TXT record
    return str(value)


def _zone(zonedata: Mapping[str, list[Any]]) -> StaticResolver:
    records: dict[str, dict[str, list[str]]] = {}
    timeouts: list[tuple[str, str]] = []
    for name, entries in zonedata.items():
        node = records.setdefault(name, {})
        for entry in entries:
            if entry == "TIMEOUT":
                continue
            for rdtype, value in entry.items():
                answers = node.setdefault(rdtype, [])
                if value not in ("NONE", []):  # NONE and [] say: this type has no record
                    answers.append(_answer(rdtype, value))
        if "SPF" in node and "TXT" not in node:
            node["TXT"] = list(node["SPF"])  # the suite's convention: SPF implies TXT
        if "TIMEOUT" in entries:
            # TIMEOUT hangs every query the name has no records for (a braindead server).
            timeouts += [(name, t) for t in QUERIED_TYPES if not node.get(t)]
    return StaticResolver(records, timeouts=timeouts)


def _cases(filename: str) -> Iterator[Case]:
    with external("openspf", filename).open(encoding="utf-8") as stream:
        for scenario in yaml.safe_load_all(stream):
            resolver = _zone(scenario.get("zonedata") or {})
            for case_id, test in scenario["tests"].items():
                yield Case(case_id=case_id, test=test, resolver=resolver)


def _failure(case: Case) -> str | None:
    """None when check_spf gives an accepted result (and the expected explanation)."""
    test = case.test
    got = check_spf(
        client_ip=str(test["host"]),
        mail_from=str(test["mailfrom"]),
        helo=str(test["helo"]),
        resolver=case.resolver,
    )
    accepted = test["result"] if isinstance(test["result"], list) else [test["result"]]
    if got.result not in accepted:
        return f"got {got.result} ({got.explanation}), expected {accepted}"
    expected_exp = test.get("explanation")
    if expected_exp == "DEFAULT":
        expected_exp = DEFAULT_EXPLANATION
    if expected_exp is not None and got.result == "fail" and got.explanation != expected_exp:
        return f"explanation {got.explanation!r}, expected {expected_exp!r}"
    return None


def _run_suite(filename: str, exceptions: dict[str, str], label: str) -> None:
    cases = list(_cases(filename))
    failures = {c.case_id: reason for c in cases if (reason := _failure(c)) is not None}
    report(label, len(cases) - len(failures), len(cases), len(exceptions))
    unexplained = {k: v for k, v in failures.items() if k not in exceptions}
    assert unexplained == {}
    assert sorted(failures) == sorted(exceptions), "exception list out of date"


def test_rfc7208_suite() -> None:
    _run_suite("rfc7208-tests.yml", RFC7208_EXCEPTIONS, "openspf rfc7208")


def test_rfc4408_suite() -> None:
    _run_suite("rfc4408-tests.yml", RFC4408_EXCEPTIONS, "openspf rfc4408")


@pytest.mark.parametrize("filename", ["rfc7208-tests.yml", "rfc4408-tests.yml"])
def test_suite_sizes_are_the_published_ones(filename: str) -> None:
    expected = {"rfc7208-tests.yml": 203, "rfc4408-tests.yml": 191}[filename]
    assert sum(1 for _ in _cases(filename)) == expected
