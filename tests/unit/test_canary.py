"""Canary tokens: found in every spelling a copy takes, and in nothing else."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

from mailmoat.common.canary import carried, marked, new_token


def test_tokens_are_fresh_and_marked_on_a_line_of_their_own() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(re.fullmatch(r"mmc-[a-z2-7]{12}", t) for t in tokens)
    token = next(iter(tokens))
    assert marked("Hello.\n\n", token) == f"Hello.\n\n[ref {token}]\n"


def test_every_spelling_is_found() -> None:
    token = "mmc-k3v9q2x7pdh4"
    core = token.removeprefix("mmc-")
    for text in (
        f"quoted: [ref {token}]",
        token.upper(),
        " ".join(token),
        "k3v9-q2x7-pdh4",
        quote(quote(token, safe=""), safe=""),
        "https://x.example/?d=" + base64.urlsafe_b64encode(token.encode()).decode().rstrip("="),
        base64.b64encode(f"secret stuff {token} more".encode()).decode(),
        token.encode().hex(),
        "".join(f"&#x{ord(c):x};" for c in core),
    ):
        assert carried([token], "nothing here", text) == token, text


def test_other_text_and_other_tokens_are_not() -> None:
    token = "mmc-k3v9q2x7pdh4"
    assert carried([], token) is None
    assert carried([token], None, "", "mmc-k3v9q2x7pdh5", "k3v9q2x7", "MMC reference") is None
    other = "mmc-aaaabbbbcccc"
    assert carried([other, token], f"ref {token}") == token
