"""The model's verdict: strict validation, and quotes mapped back to spans of the segments."""

from __future__ import annotations

import json
import re

from anthropic.types import Message, ToolUseBlock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mailmoat.common.events import Finding
from mailmoat.scanner.adapters.chunking import Chunk
from mailmoat.scanner.adapters.prompts import CODES, TOOL_NAME

CODE_PREFIX = "llm."


class LLMDetectorError(Exception):
    """The LLM backend gave no usable verdict; the caller counts the mail as flagged."""


class InvalidVerdict(LLMDetectorError):
    """The model answered, but not with one verdict that matches the schema."""


class ModelFinding(BaseModel):
    """One suspicious passage as the model reports it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    code: str = Field(pattern=f"^({'|'.join(CODES)})$", description="Kind of manipulation.")
    reason: str = Field(max_length=2000, description="Why the passage is suspicious.")
    part: str = Field(max_length=500, description="Part named in the passage's label.")
    quote: str = Field(max_length=4000, description="The passage as the model copied it.")


class ModelVerdict(BaseModel):
    """The ``record_verdict`` arguments for one chunk."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    score: int = Field(ge=0, le=100, description="0 surely benign, 100 surely an attack.")
    flagged: bool = Field(description="The model judged the chunk an injection attempt.")
    findings: tuple[ModelFinding, ...] = Field(max_length=100, description="Passages.")


def parse_verdict(message: Message) -> ModelVerdict:
    """The one ``record_verdict`` call in ``message``; anything else is an error, never a pass."""
    if message.stop_reason != "tool_use":
        raise InvalidVerdict(f"model stopped with {message.stop_reason!r}, not a verdict")
    calls = [b for b in message.content if isinstance(b, ToolUseBlock) and b.name == TOOL_NAME]
    if len(calls) != 1:
        raise InvalidVerdict(f"expected one {TOOL_NAME} call, got {len(calls)}")
    try:
        # JSON mode of strict validation: arrays become tuples, but "50" or 50.5 stay errors
        return ModelVerdict.model_validate_json(json.dumps(calls[0].input))
    except ValidationError as exc:
        raise InvalidVerdict(f"verdict does not match the schema: {exc}") from exc


def locate(finding: ModelFinding, chunk: Chunk, marker: str) -> Finding:
    """The finding with the quote's span in its segment; 0/0 when the quote is not found."""
    pattern = quote_pattern(finding.quote, marker)
    windows = sorted(chunk.windows, key=lambda w: w.part != finding.part)
    for window in windows:
        match = pattern.search(window.text) if pattern else None
        if match:
            start, end = window.start + match.start(), window.start + match.end()
            return _finding(finding, window.part, start, end)
    return _finding(finding, finding.part, 0, 0)


def quote_pattern(quote: str, marker: str) -> re.Pattern[str] | None:
    """Matches the quote in the original text, whatever whitespace or marks stood between words.

    The model saw datamarked text, so it may quote marks, spaces or a mix of them.
    """
    gap = rf"[\s{re.escape(marker)}]+"
    words = [w for w in re.split(gap, quote) if w]
    if not words:
        return None
    return re.compile(gap.join(re.escape(w) for w in words))


def _finding(finding: ModelFinding, part: str, start: int, end: int) -> Finding:
    code = f"{CODE_PREFIX}{finding.code}"
    return Finding(code=code, reason=finding.reason, part=part, start=start, end=end)
