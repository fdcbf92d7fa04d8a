"""Unicode's confusables data against the look-alike skeleton: the shipped prototype table is
exactly what ``confusables.txt`` (Unicode 17) says, and every pair ``intentional.txt`` calls
identical shares a skeleton."""

from __future__ import annotations

from mailmoat.common.lookalike import derive_table, prototypes, skeleton
from tests.support.external import external, report

CONFUSABLES = external("unicode", "ucd17", "confusables.txt")
INTENTIONAL = external("unicode", "ucd17", "intentional.txt")


def test_the_shipped_table_is_unicodes() -> None:
    with CONFUSABLES.open(encoding="utf-8-sig") as source:
        table = derive_table(source)
    singles = {s: t for s, t in table.items() if len(s) == 1}
    assert len(table) > 6000
    assert prototypes() == singles


def test_intentionally_identical_pairs_share_a_skeleton() -> None:
    with INTENTIONAL.open(encoding="utf-8-sig") as source:
        pairs = [derive_table([line]).popitem() for line in source if line.split("#")[0].strip()]
    differ = [(a, b) for a, b in pairs if skeleton(a) != skeleton(b)]
    report("intentional.txt (identical pairs)", len(pairs) - len(differ), len(pairs))
    assert len(pairs) > 70
    assert differ == []
