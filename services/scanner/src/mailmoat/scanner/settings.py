"""Scanner settings: which detector backend runs on each side, deadlines, shadow mode."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from mailmoat.common.settings import CommonSettings

Backend = Literal["learned", "rules", "anthropic"]


class ScannerSettings(CommonSettings):
    """Detector backends and the consensus deadline (``MAILMOAT_*``)."""

    primary_backend: Backend = Field(default="learned", description="The primary side's method.")
    checker_backend: Backend = Field(default="rules", description="The checker side's method.")
    shadow_backend: Backend | None = Field(
        default=None, description="A detector run in shadow: recorded, never deciding."
    )
    shadow_side: Literal["primary", "checker"] = Field(
        default="primary", description="Which side's verdicts the shadow detector mirrors."
    )
    detector_timeout_seconds: float = Field(
        default=60.0, gt=0, description="One detector's time on one mail; past it, a flag."
    )
    verdict_deadline_seconds: float = Field(
        default=120.0, gt=0, description="How long consensus waits for a side before flagging it."
    )
    sweep_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often consensus looks for passed deadlines."
    )

    anthropic_api_key: SecretStr = Field(default=SecretStr(""), description="Anthropic API key.")
    anthropic_base_url: str | None = Field(default=None, description="Messages API base URL.")
    anthropic_primary_model: str = Field(default="claude-sonnet-5-5", description="Primary model.")
    anthropic_checker_model: str = Field(default="claude-haiku-5-5", description="Checker model.")
    # Sized so every attempt and its backoff fit well inside detector_timeout_seconds.
    anthropic_timeout_seconds: float = Field(default=15.0, gt=0, description="Per API call.")
    anthropic_max_retries: int = Field(default=2, ge=0, description="Retries with backoff.")

    @model_validator(mode="after")
    def _independent_sides(self) -> ScannerSettings:
        same_backend = self.primary_backend == self.checker_backend
        if same_backend and self.primary_backend != "anthropic":
            raise ValueError("primary and checker must use different detection methods")
        if same_backend and self.anthropic_primary_model == self.anthropic_checker_model:
            raise ValueError("two Anthropic sides need different models")
        uses_anthropic = "anthropic" in (self.primary_backend, self.checker_backend)
        if uses_anthropic and not self.anthropic_api_key.get_secret_value():
            raise ValueError("the anthropic backend needs MAILMOAT_ANTHROPIC_API_KEY")
        return self
