"""Requests to hand over secrets or the mailbox's contents, with no address named."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule
from mailmoat.scanner.domain.rules.lexicon import BULK_MAIL, CLAUSE_START, SENSITIVE

_GIVE = (
    r"(?:reveal|share|send|forward|export|disclose|leak|tell\s+me|give\s+me|provide|list|dump|"
    r"print|output|e-?mail|paste|include|attach|summari[sz]e)"
)
_ASK = re.compile(
    CLAUSE_START + _GIVE + r"\b[^.\n]{0,40}?\b(?:" + SENSITIVE + "|" + BULK_MAIL + r")",
    re.IGNORECASE | re.MULTILINE,
)

SECRET_REQUEST = PatternRule(
    code="exfil.secret_request",
    description="asks for secrets or the mailbox's contents to be handed over",
    weight=30,
    patterns=(_ASK,),
    anchors=(
        "password",
        "passwords",
        "passcode",
        "passcodes",
        "credential",
        "credentials",
        "api key",
        "api_key",
        "apikey",
        "token",
        "tokens",
        "secret",
        "secrets",
        "private key",
        "2fa",
        "mfa",
        "otp",
        "one-time",
        "one time",
        "verification code",
        "security code",
        "login code",
        "recovery code",
        "reset code",
        "reset codes",
        "seed phrase",
        "system prompt",
        "ssh key",
        "bank details",
        "account number",
        "credit card",
        "social security",
        "inbox",
        "mailbox",
        "address book",
        "history",
        "contact",
        "contacts",
        "correspondence",
        "all ",
        "every ",
        "each ",
        "entire",
        "whole",
    ),
    reach=120,
)
