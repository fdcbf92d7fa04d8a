"""An injection detector side (primary or checker) backed by Anthropic's Messages API."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
from collections.abc import Sequence
from types import TracebackType
from typing import Literal

import anthropic
from anthropic.types import Message, ToolChoiceToolParam, ToolParam
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mailmoat.common.events import Finding
from mailmoat.scanner.adapters.chunking import Chunk, covered_parts, plan_chunks
from mailmoat.scanner.adapters.prompts import (
    FRAMINGS,
    PROMPT_VERSION,
    TOOL_NAME,
    VERDICT_SCHEMA,
)
from mailmoat.scanner.adapters.verdict import (
    InvalidVerdict,
    LLMDetectorError,
    ModelVerdict,
    locate,
    parse_verdict,
)
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.content import ScanContent

TRUNCATED = "coverage.truncated"
RETRY_STATUSES = frozenset({408, 409, 429})
MIN_PASSAGE_CHARS = 200
_TOOL: ToolParam = {
    "name": TOOL_NAME,
    "description": "Record the classification of the quoted email. Call exactly once.",
    "input_schema": VERDICT_SCHEMA,
}
_TOOL_CHOICE: ToolChoiceToolParam = {"type": "tool", "name": TOOL_NAME}


class BackendUnavailable(LLMDetectorError):
    """The API failed (status, connection or timeout) on every allowed attempt."""


class AnthropicConfig(BaseModel):
    """How one side reaches its model; each side gets its own model and prompt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, description="Claude model id for this side.")
    role: Literal["primary", "checker"] = Field(description="Which prompt and framing to use.")
    api_key: SecretStr = Field(description="Anthropic API key.")
    base_url: str | None = Field(default=None, description="API base URL; None for the SDK's.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Hard limit per attempt.")
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries on 429/5xx/timeouts.")
    backoff_base_seconds: float = Field(default=0.5, ge=0, description="First retry delay.")
    backoff_max_seconds: float = Field(default=8.0, ge=0, description="Largest retry delay.")
    max_input_tokens: int = Field(default=8000, gt=0, description="Input budget per call.")
    chars_per_token: float = Field(default=4.0, gt=0, description="Token estimate from chars.")
    max_output_tokens: int = Field(default=1024, gt=0, description="Room for the verdict.")
    max_chunks: int = Field(default=8, ge=1, description="Most calls spent on one mail.")
    concurrency: int = Field(default=4, ge=1, description="Calls in flight for one mail.")
    overlap_chars: int = Field(default=200, ge=0, description="Shared by adjacent windows.")
    flag_at: int = Field(default=50, ge=0, le=100, description="Score that flags on its own.")


class AnthropicDetector:
    """Asks a Claude model to classify every segment, sent as spotlighted data in chunks."""

    def __init__(
        self, config: AnthropicConfig, client: anthropic.AsyncAnthropic | None = None
    ) -> None:
        self.config = config
        self.framing = FRAMINGS[config.role]
        self.name = f"anthropic-{config.role}"
        self.version = f"{PROMPT_VERSION}+{config.model}"
        self.capacity = self._passage_capacity()
        self._client = client or anthropic.AsyncAnthropic(
            api_key=config.api_key.get_secret_value(),
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            max_retries=0,  # retries are ours: bounded, with jitter, under a hard per-try limit
            _strict_response_validation=True,
        )

    async def assess(self, content: ScanContent) -> Assessment:
        """Judge every segment; the mail's score is the highest of its chunks."""
        planned = plan_chunks(
            content.segments, self.capacity, self.config.overlap_chars, self.framing.label_chars
        )
        sent, dropped = planned[: self.config.max_chunks], planned[self.config.max_chunks :]
        results = await self._judge_all(sent)
        return self._merge(content, results, covered_parts(content.segments, dropped))

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> AnthropicDetector:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _passage_capacity(self) -> int:
        budget = int(self.config.max_input_tokens * self.config.chars_per_token)
        capacity = budget - self.framing.fixed_chars()
        if capacity < MIN_PASSAGE_CHARS + self.config.overlap_chars:
            raise ValueError(f"max_input_tokens {self.config.max_input_tokens} leaves no room")
        return capacity

    async def _judge_all(self, chunks: Sequence[Chunk]) -> list[tuple[Chunk, ModelVerdict]]:
        gate = asyncio.Semaphore(self.config.concurrency)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._judge(chunk, gate)) for chunk in chunks]
        except ExceptionGroup as failures:
            first = failures.exceptions[0]  # the caller records one error, not a group
            raise first from first.__cause__
        return [task.result() for task in tasks]

    async def _judge(self, chunk: Chunk, gate: asyncio.Semaphore) -> tuple[Chunk, ModelVerdict]:
        # a fresh token per request, so no email can forge the end of its data block
        text = self.framing.render(secrets.token_hex(16), chunk.windows)
        async with gate:
            message = await self._call(text)
        return chunk, parse_verdict(message)

    async def _call(self, text: str) -> Message:
        for attempt in itertools.count():
            try:
                return await self._attempt(text)
            except (anthropic.APIError, TimeoutError) as exc:
                if attempt >= self.config.max_retries or not _retryable(exc):
                    raise _failure(exc, attempt + 1) from exc
                await asyncio.sleep(self._backoff(attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, text: str) -> Message:
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                return await self._client.messages.create(
                    model=self.config.model,
                    max_tokens=self.config.max_output_tokens,
                    system=self.framing.system,
                    messages=[{"role": "user", "content": text}],
                    tools=[_TOOL],
                    tool_choice=_TOOL_CHOICE,
                )
        except ValueError as exc:  # a 200 whose body is not JSON
            raise InvalidVerdict(f"unreadable API response: {exc}") from exc

    def _backoff(self, attempt: int, exc: BaseException) -> float:
        """Exponential with jitter, stretched to the server's Retry-After but never past the cap."""
        cap = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2.0**attempt)
        delay = cap / 2 + random.uniform(0, cap / 2)
        asked = _retry_after(exc)
        return max(delay, min(asked, self.config.backoff_max_seconds))

    def _merge(
        self,
        content: ScanContent,
        results: Sequence[tuple[Chunk, ModelVerdict]],
        coverage: tuple[str, ...],
    ) -> Assessment:
        marker = self.framing.marker
        found = [locate(f, chunk, marker) for chunk, v in results for f in v.findings]
        truncated = [_truncated(s.part) for s in content.segments if s.part not in coverage]
        score = max((v.score for _, v in results), default=0)
        flagged = (
            bool(truncated) or score >= self.config.flag_at or any(v.flagged for _, v in results)
        )
        findings = tuple(dict.fromkeys([*found, *truncated]))
        return Assessment(score=score, flagged=flagged, findings=findings, coverage=coverage)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | anthropic.APIConnectionError):
        return True
    if isinstance(exc, anthropic.APIStatusError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException) -> float:
    if not isinstance(exc, anthropic.APIStatusError):
        return 0.0
    try:
        return float(str(exc.response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0


def _failure(exc: BaseException, attempts: int) -> LLMDetectorError:
    if isinstance(exc, anthropic.APIResponseValidationError):
        return InvalidVerdict(f"API response does not match the Messages schema: {exc}")
    kind = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
    return BackendUnavailable(f"Messages API failed after {attempts} attempt(s): {kind}")


def _truncated(part: str) -> Finding:
    reason = "part not fully sent to the model: the per-mail chunk budget ran out"
    return Finding(code=TRUNCATED, reason=reason, part=part)
