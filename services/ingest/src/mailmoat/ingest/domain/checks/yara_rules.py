"""Rule ``yara``: the YARA rules shipped in ``mailmoat/ingest/rules/*.yar``, run on each part."""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yara

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks.base import MAX_SCAN_BYTES, Rule, finding
from mailmoat.ingest.domain.parts import PartPayload

TIMEOUT_S = 5
"""Seconds one part may take; a part that runs past it is reported, never let through."""


def rule_files() -> list[Traversable]:
    """The shipped ``.yar`` files, found through the package so an installed wheel works too."""
    folder = resources.files("mailmoat.ingest").joinpath("rules")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yar")), key=lambda f: f.name)


@functools.cache
def compiled_rules() -> Any:
    """Every shipped rule compiled once per process, one namespace per file."""
    sources = {f.name.removesuffix(".yar"): f.read_text(encoding="utf-8") for f in rule_files()}
    return yara.compile(sources=sources)


def check(part: PartPayload) -> list[Finding]:
    """One finding per matching rule, pointing at the rule's first matched string."""
    try:
        matches = compiled_rules().match(data=part.data[:MAX_SCAN_BYTES], timeout=TIMEOUT_S)
    except yara.TimeoutError:
        reason = f"YARA scan did not finish within {TIMEOUT_S} s"
        return [finding("malware.yara.timeout", reason, part)]
    return [_to_finding(match, part) for match in matches]


def _to_finding(match: Any, part: PartPayload) -> Finding:
    description = str(match.meta.get("description", match.rule))
    start, end = _first_span(match)
    return finding(f"malware.yara.{match.rule}", f"YARA: {description}", part, start, end)


def _first_span(match: Any) -> tuple[int, int]:
    for string in match.strings:
        for instance in string.instances:
            return int(instance.offset), int(instance.offset + instance.matched_length)
    return 0, 0


RULE = Rule(
    code="yara",
    description="Shipped YARA rules: download cradles, LOLBins, droppers, webshells, obfuscated JS",
    emits=("malware.yara.<rule>", "malware.yara.timeout"),
    check=check,
)
