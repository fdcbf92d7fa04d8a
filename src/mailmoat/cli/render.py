"""What the people's commands print: aligned tables and ``key: value`` blocks for a person,
JSON for a script. Text that came from mail (a subject, a sender) reaches a terminal, so every
control character (escape sequences that could rewrite the screen or the title, bidirectional
overrides that reorder what is shown) is replaced by a visible ``?`` first."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from pydantic import BaseModel

WIDEST = 60
"""Cells longer than this are cut, with an ellipsis."""
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(value: object) -> str:
    """``value`` as one line fit for a terminal: no control or bidi-control characters."""
    text = "" if value is None else str(value)
    text = _BIDI.sub("?", text)
    return "".join(
        "?" if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d" else ch for ch in text
    )


def table(
    rows: Iterable[Sequence[object]], headers: Sequence[str], out: TextIO = sys.stdout
) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for line in ([*headers], *cells):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip(), file=out)
    if not cells:
        print("(none)", file=out)


def fields(pairs: Iterable[tuple[str, object]], out: TextIO = sys.stdout) -> None:
    pairs = list(pairs)
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        if isinstance(value, str) and "\n" in value:  # a body: below its label, line by line
            print(f"{name}:", file=out)
            for line in value.splitlines():
                print(f"  {safe(line)}", file=out)
        else:
            print(f"{name.ljust(width)}  {safe(_plain(value))}", file=out)


def as_json(value: Any, out: TextIO = sys.stdout) -> None:
    print(json.dumps(_jsonable(value), indent=2, ensure_ascii=False), file=out)


def _cell(value: object) -> str:
    text = safe(_plain(value))
    return text if len(text) <= WIDEST else text[: WIDEST - 1] + "\u2026"


def _plain(value: object) -> object:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds")
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
