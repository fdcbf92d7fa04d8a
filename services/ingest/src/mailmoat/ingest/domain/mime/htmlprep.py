"""Makes HTML safe to hand to html.parser: no quadratic rescans, no asserting declarations.

html.parser rescans to the end of the input for every ``<`` that never reaches a ``>``, which
makes a few hundred kilobytes of ``<a<a<a...`` take minutes; and it raises on unknown
``<![...`` sections. Such ``<`` are escaped here in one linear pass, so they read as text.
"""

from __future__ import annotations

import re

_LT = re.compile(r"<")
_RAW_TEXT = re.compile(r"<(script|style)\b", re.IGNORECASE)
_MARKED_SECTION = re.compile(
    r"<!\[\s*(cdata|if|else|endif|temp|ignore|include|rcdata)\b", re.IGNORECASE
)


def defuse(html: str) -> str:
    """``html`` with every ``<`` that cannot start a complete tag written as ``&lt;``."""
    out: list[str] = []
    copied = 0
    next_gt = -1
    position = 0
    while (match := _LT.search(html, position)) is not None:
        start = match.start()
        skip_to = _skip_opaque(html, start)
        if skip_to is not None:
            position = skip_to
            continue
        if next_gt < start:
            found = html.find(">", start + 1)
            next_gt = len(html) if found < 0 else found
        next_lt = html.find("<", start + 1, next_gt)
        if next_gt == len(html) or next_lt >= 0 or _bad_marked_section(html, start):
            out += [html[copied:start], "&lt;"]
            copied = start + 1
        position = start + 1
    out.append(html[copied:])
    if _unclosed_comment(html):
        out.append("-->")
    return "".join(out)


def _skip_opaque(html: str, start: int) -> int | None:
    """End of a comment or of a script/style element starting at ``start``, if one does."""
    if html.startswith("<!--", start):
        end = html.find("-->", start + 4)
        # An unclosed comment hides the rest of the document in a browser.
        return len(html) if end < 0 else end + 3
    raw = _RAW_TEXT.match(html, start)
    if raw is None:
        return None
    return _find_close(html, raw.group(1), raw.end())


def _find_close(html: str, name: str, after: int) -> int:
    pattern = re.compile(f"</{name}", re.IGNORECASE)
    close = pattern.search(html, after)
    return len(html) if close is None else close.start()


def _unclosed_comment(html: str) -> bool:
    opener = html.rfind("<!--")
    return opener >= 0 and html.find("-->", opener + 4) < 0


def _bad_marked_section(html: str, start: int) -> bool:
    return html.startswith("<![", start) and _MARKED_SECTION.match(html, start) is None
