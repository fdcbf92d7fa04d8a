"""What the people's commands print of mail reaches a terminal: no escape sequence, C1 control
or bidirectional override survives, so a subject cannot rewrite the screen, the window title or
the order of what is shown."""

from __future__ import annotations

import io

import pytest

from mailmoat.cli.render import safe, table


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b]0;pwned\x07",  # set the window title
        "\x1b[2J\x1b[H",  # clear the screen
        "\x9b31m",  # C1 CSI, one byte
        "invoice\u202egnp.exe",  # right-to-left override
        "a\u2066b\u2069c",  # isolates
        "line\rover",  # carriage return overwriting the line
    ],
)
def test_control_characters_never_reach_the_terminal(hostile: str) -> None:
    shown = safe(hostile)
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0 for ch in shown)
    assert not set(shown) & set("\u202e\u2066\u2069")
    out = io.StringIO()
    table([[hostile]], ["SUBJECT"], out)
    assert "\x1b" not in out.getvalue()


def test_ordinary_text_is_left_alone() -> None:
    assert safe("Déjeuner vendredi \U0001f44b\u200d") == "Déjeuner vendredi \U0001f44b\u200d"
