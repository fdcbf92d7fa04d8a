"""Role reassignment and jailbreak role-play: 'you are now', 'from now on you', prompt leaks."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_I = re.IGNORECASE

# "You are now a Gold member", "from now on, your invoices..." are ordinary mail: weak alone.
_REASSIGN = re.compile(
    r"\byou\s+are\s+now\s+(?:an?\s+|the\s+|my\s+|in\s+|no\s+longer\b|operating\b|acting\b)"
    r"|\bfrom\s+now\s+on,?\s+(?:you\b|your\b|respond\b|reply\b|answer\b|act\b|always\b)"
    r"|\bpretend\s+(?:that\s+)?(?:you\s+are|to\s+be|you'?re)\s+(?:an?\s+)?(?:AI|assistant|"
    r"model|bot|different)\b",
    _I,
)
_JAILBREAK = re.compile(
    r"\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be|you'?re\s+now)\s+(?:an?\s+)?(?:DAN|"
    r"jailbroken|unrestricted|unfiltered|uncensored|evil)\b"
    r"|\b(?:do\s+anything\s+now|DAN\s+mode|developer\s+mode\s+(?:enabled|on|activated)|"
    r"jailbreak(?:ed|\s+mode)?(?!\s+(?:attempt|attack|research|detection|technique|prompt|"
    r"example|resist|benchmark|defen))|god\s+mode\s+(?:enabled|on|activated))\b"
    r"|\b(?:do\s+not|don'?t|never)\s+break\s+character\b|\bstay\s+in\s+character\b"
    r"|\b(?:enter|adopt|assume)\s+(?:the\s+)?persona\b"
    r"|\b(?:without|no|free\s+(?:of|from))\s+(?:any\s+)?(?:ethical|safety|content|moral)\s+"
    r"(?:guidelines|restrictions|filters|limits|constraints)\b",
    _I,
)
_NEW_PROMPT = re.compile(
    r"\b(?:new|updated|revised|real|actual|true|override|secret)\s+(?:system\s+)?"
    r"(?:instructions|prompt|directives?)\s*:"
    r"|\bsystem\s+(?:prompt|message|instructions?)\s*:"
    r"|\b(?:reveal|print|show|repeat|output|disclose|leak|dump)\s+(?:me\s+)?(?:your|the)\s+"
    r"(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|original\s+instructions|"
    r"(?:system\s+)?instructions\s+verbatim)",
    _I,
)

ROLE_PLAY = PatternRule(
    code="injection.role_play",
    description="reassigns the reader's role, asks for its prompt or announces new instructions",
    weight=40,
    patterns=(_REASSIGN, _NEW_PROMPT),
    anchors=(
        "you are now",
        "from now on",
        "pretend",
        "act as",
        "anything now",
        "mode",
        "jailbreak",
        "jailbreaked",
        "jailbroken",
        "without",
        "instructions",
        "prompt",
        "directive",
        "directives",
        "system message",
    ),
)

JAILBREAK = PatternRule(
    code="injection.jailbreak",
    description="jailbreak role-play (DAN, developer mode, no safety guidelines)",
    weight=60,
    patterns=(_JAILBREAK,),
    anchors=(
        "you are now",
        "you're now",
        "act as",
        "pretend",
        "anything now",
        "mode",
        "jailbreak",
        "jailbreaked",
        "jailbroken",
        "without",
        "no ",
        "free of",
        "free from",
        "character",
        "persona",
    ),
)
