"""What a person sees of the bodies, the hidden text beside it, and the quoted history."""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.mail.structured import HiddenFragment, HiddenKind
from mailmoat.ingest.domain.mime.bodies import Bodies
from mailmoat.ingest.domain.mime.html import render_html
from mailmoat.ingest.domain.mime.invisible import split_invisible
from mailmoat.ingest.domain.mime.limits import MimeLimits
from mailmoat.ingest.domain.mime.quotes import split_quoted


@dataclass(frozen=True, slots=True)
class Content:
    """Visible text, hidden fragments, quoted history and the defects met."""

    visible: str = ""
    hidden: tuple[HiddenFragment, ...] = ()
    quoted: str = ""
    defects: frozenset[str] = frozenset()


def read_content(bodies: Bodies, limits: MimeLimits) -> Content:
    """Visible text comes from the text body, or from the HTML when there is none; hidden
    text is collected from the HTML either way, since a mail client would show the HTML."""
    hidden: list[HiddenFragment] = []
    found: set[str] = set()
    visible, quoted_html, part = _plain_lines(bodies.text), "", bodies.text_path
    if bodies.html:
        view = render_html(bodies.html, limits)
        found |= set(view.defects)
        hidden += [_fragment(kind, text, bodies.html_path, limits) for kind, text in view.hidden]
        if not bodies.text:
            visible, quoted_html, part = view.visible, view.quoted, bodies.html_path
    visible = _scrub(visible, part, hidden, limits)
    fresh, quoted_text = split_quoted(visible)
    quoted = "\n\n".join(q for q in (_scrub(quoted_html, part, hidden, limits), quoted_text) if q)
    return Content(fresh, tuple(hidden[: limits.max_fragments]), quoted, frozenset(found))


def _plain_lines(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _scrub(text: str, part: str, hidden: list[HiddenFragment], limits: MimeLimits) -> str:
    clean, runs = split_invisible(text)
    hidden += [_fragment("invisible_chars", run, part, limits) for run in runs[:50]]
    return clean


def _fragment(kind: str, text: str, part: str, limits: MimeLimits | None = None) -> HiddenFragment:
    cap = limits.max_fragment_chars if limits else len(text)
    return HiddenFragment(kind=_kind(kind), text=text[:cap], part=part)


def _kind(kind: str) -> HiddenKind:
    return kind  # type: ignore[return-value]
