"""Detector backends by name: the offline model, the rule engine, or Anthropic's models."""

from __future__ import annotations

from mailmoat.scanner.domain.assessment import Detector
from mailmoat.scanner.settings import Backend, ScannerSettings


def build_detector(backend: Backend, side: str, settings: ScannerSettings) -> Detector:
    """The detector a side runs; imported lazily so each deployable loads only its own."""
    if backend == "learned":
        from mailmoat.scanner.domain.primary import LearnedDetector

        return LearnedDetector()
    if backend == "rules":
        from mailmoat.scanner.domain.checker import RuleChecker

        return RuleChecker()
    return _anthropic(side, settings)


def _anthropic(side: str, settings: ScannerSettings) -> Detector:
    from mailmoat.scanner.adapters.anthropic_detector import AnthropicConfig, AnthropicDetector

    model = (
        settings.anthropic_primary_model if side == "primary" else settings.anthropic_checker_model
    )
    config = AnthropicConfig(
        model=model,
        role="primary" if side == "primary" else "checker",
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        timeout_seconds=settings.anthropic_timeout_seconds,
        max_retries=settings.anthropic_max_retries,
    )
    return AnthropicDetector(config)
