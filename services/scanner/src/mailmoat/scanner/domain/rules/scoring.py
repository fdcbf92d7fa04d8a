"""How the checker turns findings into a score and a flag.

Each rule counts once, however many places it fired: score = sum of the weights of the distinct
codes found, capped at 100; the mail is flagged at ``FLAG_AT`` (50). Weights are set so that a
single weak signal (an AI mentioned, a paste-site link, a hidden 'shop now', an invisible
character inside a word) stays below 50, two weak signals together reach it, and a strong rule
(fake role tokens, override phrasing, tag-character text, a fake tool call, an order about the
reader's answer, a data-carrying URL) flags alone. An instruction found where a person cannot see
it (a ``hidden:*`` part, or text decoded from tag characters, base64, hex, rot13, a bidi override
or zero-width splitting) adds ``hidden.instructions``, so even a medium rule flags there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mailmoat.common.events import Finding

FLAG_AT = 50
CAP = 100
CONCEALED_CODE = "hidden.instructions"
CONCEALED_WEIGHT = 40
INSTRUCTION_PREFIXES = ("injection.", "exfil.")
"""Codes that are instructions in themselves, as opposed to ways of hiding or encoding text."""


def is_instruction(code: str) -> bool:
    return code.startswith(INSTRUCTION_PREFIXES)


def score_findings(findings: Iterable[Finding], weights: Mapping[str, int]) -> int:
    """Sum of the weights of the distinct codes, capped at ``CAP``."""
    return min(CAP, sum(weights.get(code, 0) for code in {f.code for f in findings}))
