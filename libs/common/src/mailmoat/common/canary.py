"""Canary tokens: a secret marker placed in what an agent receives, so that a send, a webhook or
a URL that carries it proves the agent is copying received mail outward.

An inbox with a canary gets a token such as ``mmc-k3v9q2x7pdh4``; policy appends it to the text
of every mail it stores for the inbox (``[ref mmc-k3v9q2x7pdh4]`` on a line of its own, so it is
in the API, the webhooks and the MCP tools alike). Policy refuses a send carrying the token of
any of the workspace's inboxes, and the gateway a webhook URL carrying one; each trip is
audited (``canary.tripped``) and counted (``mailmoat_canary_tripped_total``).

The token is looked for as written and in the forms a copy takes to slip past a plain search:
any case, with separators or spaces between its characters, percent-encoded, as HTML character
references, and inside base64 or hex runs.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
from collections.abc import Iterable
from urllib.parse import unquote

PREFIX = "mmc-"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_LENGTH = 12
"""Characters after the prefix: 60 random bits."""
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_RUN = re.compile(r"(?:[0-9a-fA-F]{2}){12,}")


def new_token() -> str:
    """A fresh canary token."""
    return PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def marked(text: str, token: str) -> str:
    """``text`` with the canary on a line of its own at the end."""
    return f"{text.rstrip()}\n\n[ref {token}]\n"


def carried(tokens: Iterable[str], *texts: str | None) -> str | None:
    """The first of ``tokens`` that any of ``texts`` carries, in any of the forms above."""
    cores = {_compact(token.removeprefix(PREFIX)): token for token in tokens}
    if not cores:
        return None
    for text in texts:
        if not text:
            continue
        for form in _forms(text):
            for core, token in cores.items():
                if core in form:
                    return token
    return None


def _forms(text: str) -> Iterable[str]:
    """``text`` reduced to lower-case letters and digits, as written and decoded."""
    yield _compact(text)
    decoded = text
    for _ in range(3):  # percent-encoding, perhaps more than once
        decoded = unquote(decoded)
    yield _compact(html.unescape(decoded))
    for run in _BASE64_RUN.findall(text):
        yield _compact(_from_base64(run))
    for run in _HEX_RUN.findall(text):
        yield _compact(bytes.fromhex(run).decode("latin-1"))


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def _from_base64(run: str) -> str:
    padded = run.rstrip("=") + "=" * (-len(run.rstrip("=")) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("latin-1")
