"""Fake tool calls: markup or JSON shaped like an agent's function call, planted in a mail."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_TAGS = re.compile(
    r"</?(?:tool_call|tool_calls|tool_use|tool_result|function_calls?|function_results?|"
    r"invoke|antml:[a-z_]+|parameter\s+name=)\b",
    re.IGNORECASE,
)
_JSON = re.compile(
    r"\{\s*\"(?:tool|tool_name|function|function_call|recipient_name)\"\s*:"
    r"|\{\s*\"name\"\s*:\s*\"[A-Za-z_][\w.-]{0,60}\"\s*,\s*\"(?:arguments|args|parameters|"
    r"input|tool_input)\"\s*:"
)

TOOL_CALL = PatternRule(
    code="injection.tool_call",
    description="fake tool or function call",
    weight=50,
    patterns=(_TAGS, _JSON),
    anchors=(
        "tool",
        "function",
        "invoke",
        "antml",
        "parameter",
        '"name"',
        "recipient_name",
    ),
    markup=True,
)
