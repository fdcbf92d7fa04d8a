"""L1 attachment checks: every rule runs on every decoded part; any finding quarantines the mail.

One module per rule (code, description, ``check(part)``), registered in ``RULES`` in the order
they run. A rule that crashes is itself reported as a finding, so a bug never lets mail through.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks import (
    archives,
    double_extension,
    eicar,
    executables,
    html_smuggling,
    macros,
    yara_rules,
)
from mailmoat.ingest.domain.checks.base import Rule, finding
from mailmoat.ingest.domain.parts import PartPayload

RULES: tuple[Rule, ...] = (
    eicar.RULE,
    yara_rules.RULE,
    macros.RULE,
    executables.RULE,
    double_extension.RULE,
    archives.RULE,
    html_smuggling.RULE,
)

__all__ = ["RULES", "Rule", "run_checks"]


def run_checks(parts: Sequence[PartPayload]) -> tuple[Finding, ...]:
    """Every finding of every rule on every part, in part order then rule order."""
    return tuple(found for part in parts for rule in RULES for found in _run(rule, part))


def _run(rule: Rule, part: PartPayload) -> list[Finding]:
    try:
        return rule.check(part)
    except Exception as exc:  # fail closed: an unchecked part is quarantined, not passed
        reason = f"rule {rule.code} failed on this part ({type(exc).__name__})"
        return [finding("check.error", reason, part)]
