"""Markdown report of an evaluation run: per detector, consensus, placements, sources, targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from training.metrics import pct, percentile_ms, rate, roc_auc, tpr_at_fpr
from training.synth import PLACEMENTS, Example

if TYPE_CHECKING:
    from training.evaluate import Run


def report(
    examples: list[Example],
    runs: list[Run],
    consensus: tuple[np.ndarray, np.ndarray],
    command: str,
    threads: str,
) -> str:
    labels = np.asarray([e.label for e in examples])
    caught, withheld = consensus
    both = [sum(r.seconds[i] for r in runs) for i in range(len(examples))]
    lines = [
        "# Prompt-injection detector evaluation",
        "",
        f"Produced by `{command}` on the frozen evaluation split (its own seed, SpamAssassin "
        "easy_ham_2 and hard_ham carriers, attack strings disjoint from training). "
        f"Thread settings: {threads}. Latency is wall time of `judge()` per mail in this process.",
        "",
        f"Mails: {int((labels == 0).sum())} benign, {int((labels == 1).sum())} attacks. "
        f"Detectors: {', '.join(r.name for r in runs)}.",
        "",
        *_detector_table(runs, labels),
        "",
        *_consensus_table(labels, caught, withheld, both),
        "",
        *_breakdown("Attack placement", [e.placement for e in examples], labels == 1, runs, caught),
        "",
        *_breakdown(
            "Attack source", [e.source.split("+")[0] for e in examples], labels == 1, runs, caught
        ),
        "",
        *_breakdown(
            "Benign source (flag rates)", [e.source for e in examples], labels == 0, runs, caught
        ),
        "",
        *_targets(labels, caught, withheld, both, runs),
    ]
    return "\n".join(lines) + "\n"


def _detector_table(runs: list[Run], labels: np.ndarray) -> list[str]:
    rows = [
        "## Per detector",
        "",
        "| Detector | ROC AUC | TPR @ FPR 1% | TPR @ FPR 0.5% | TPR at shipped threshold "
        "| Benign flagged | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        rows.append(
            f"| {run.name} | {roc_auc(run.scores, labels):.3f} "
            f"| {pct(tpr_at_fpr(run.scores, labels, 0.01))} "
            f"| {pct(tpr_at_fpr(run.scores, labels, 0.005))} "
            f"| {pct(rate(run.flagged[labels == 1]))} | {pct(rate(run.flagged[labels == 0]))} "
            f"| {percentile_ms(run.seconds, 50):.2f} | {percentile_ms(run.seconds, 95):.2f} |"
        )
    return rows


def _consensus_table(
    labels: np.ndarray, caught: np.ndarray, withheld: np.ndarray, both: list[float]
) -> list[str]:
    benign, attack = labels == 0, labels == 1
    review = caught & ~withheld
    return [
        "## Consensus",
        "",
        "| Benign REVIEW | Benign WITHHOLD | Benign not PASS | Attacks caught (REVIEW or "
        "WITHHOLD) | Attacks withheld | p50 ms both | p95 ms both |",
        "|---|---|---|---|---|---|---|",
        f"| {pct(rate(review[benign]))} | {pct(rate(withheld[benign]))} "
        f"| {pct(rate(caught[benign]))} | {pct(rate(caught[attack]))} "
        f"| {pct(rate(withheld[attack]))} | {percentile_ms(both, 50):.2f} "
        f"| {percentile_ms(both, 95):.2f} |",
    ]


def _breakdown(
    title: str, keys: list[str], mask: np.ndarray, runs: list[Run], caught: np.ndarray
) -> list[str]:
    names = " | ".join(r.name.split(" ")[0] for r in runs)
    rows = [
        f"## {title}",
        "",
        f"| Group | Mails | {names} | consensus not PASS |",
        "|---|---|" + "---|" * len(runs) + "---|",
    ]
    groups = sorted({k for k, m in zip(keys, mask, strict=True) if m}, key=_placement_order)
    for group in groups:
        sel = mask & np.asarray([k == group for k in keys])
        flags = " | ".join(pct(rate(r.flagged[sel])) for r in runs)
        rows.append(f"| {group} | {int(sel.sum())} | {flags} | {pct(rate(caught[sel]))} |")
    return rows


def _placement_order(key: str) -> tuple[int, str]:
    return (PLACEMENTS.index(key) if key in PLACEMENTS else len(PLACEMENTS), key)


def _targets(
    labels: np.ndarray, caught: np.ndarray, withheld: np.ndarray, both: list[float], runs: list[Run]
) -> list[str]:
    benign, attack = labels == 0, labels == 1
    checks = [
        (
            "consensus catches >= 95% of attacks",
            rate(caught[attack]) >= 0.95,
            pct(rate(caught[attack])),
        ),
        (
            "<= 2% of benign mail is not PASS",
            rate(caught[benign]) <= 0.02,
            pct(rate(caught[benign])),
        ),
        (
            "<= 0.5% of benign mail is withheld",
            rate(withheld[benign]) <= 0.005,
            pct(rate(withheld[benign])),
        ),
        (
            "both offline detectors p95 <= 20 ms per mail",
            percentile_ms(both, 95) <= 20,
            f"{percentile_ms(both, 95):.2f} ms",
        ),
    ]
    rows = ["## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    rows += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, ok, value in checks]
    if len(runs) < 2:
        rows += ["", "The checker was not importable: consensus rows use the primary alone."]
    return rows
