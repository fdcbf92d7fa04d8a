"""One evaluation run per backend: the offline detectors fold by fold, or the Anthropic
detectors on the same held-out mails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.primary import LearnedDetector
from training.evaluate import Blocking, Scored, Side, score_mails
from training.families import Families
from training.protocol import Fold, fold_data, folds


@dataclass(frozen=True)
class FoldInfo:
    """What one fold trained on and how its model did on its own validation slice."""

    fold: Fold
    train_mails: int
    validation_mails: int
    validation: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """Every held-out mail's verdicts, the folds they came from and the detectors' names."""

    scored: list[Scored]
    folds: list[FoldInfo]
    primary: str
    checker: str
    trained: bool
    """True when the primary was trained per fold (the offline model)."""


def offline_run(families: Families, say: Callable[[str], None]) -> Run:
    """Each fold's primary trained without its held-out families, with the rule checker."""
    from training.train import fit, prefixed

    checker = RuleChecker()
    scored: list[Scored] = []
    infos = []
    name = ""
    for fold in folds():
        data = fold_data(families, fold)
        model, metrics, _ = fit(data, prefixed(say, fold.name))
        primary = LearnedDetector(model)
        name = f"{primary.name} {primary.version}"
        sides = (Side(name, primary.judge, primary.scan), Side("rules", checker.judge))
        scored += score_mails(fold.name, data.test, *sides)
        infos.append(FoldInfo(fold, len(data.train), len(data.validation), metrics))
        say(f"{fold.name}: judged {len(data.test)} held-out mails")
    return Run(scored, infos, f"primary ({name}, one model per fold)", "checker (rules)", True)


def anthropic_run(families: Families) -> Run:
    """The Anthropic primary and checker on every fold's held-out mails (nothing to train)."""
    from mailmoat.scanner.adapters.anthropic_detector import AnthropicDetector
    from mailmoat.scanner.backends import build_detector
    from mailmoat.scanner.settings import ScannerSettings

    settings = ScannerSettings(primary_backend="anthropic", checker_backend="anthropic")
    detectors = [build_detector("anthropic", side, settings) for side in ("primary", "checker")]
    assert all(isinstance(d, AnthropicDetector) for d in detectors)
    primary, checker = (Blocking(d) for d in detectors)  # type: ignore[arg-type]
    sides = (
        Side(settings.anthropic_primary_model, primary.judge),
        Side(settings.anthropic_checker_model, checker.judge),
    )
    scored: list[Scored] = []
    infos = []
    try:
        for fold in folds():
            scored += score_mails(fold.name, fold_data(families, fold).test, *sides)
            infos.append(FoldInfo(fold, 0, 0))
    finally:
        primary.close()
        checker.close()
    return Run(
        scored,
        infos,
        f"primary (anthropic {settings.anthropic_primary_model})",
        f"checker (anthropic {settings.anthropic_checker_model})",
        False,
    )
