"""Renders HTML to the text a person would see, setting hidden and quoted text apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from mailmoat.common.mail.structured import HiddenKind
from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.css import (
    Color,
    background_color,
    declarations,
    hides_background,
    hiding,
    overrides,
    parse_color,
    too_close,
)
from mailmoat.ingest.domain.mime.htmlprep import defuse
from mailmoat.ingest.domain.mime.limits import MimeLimits
from mailmoat.ingest.domain.mime.stylesheet import Rules, learn_rules, matching
from mailmoat.ingest.domain.mime.textblocks import TextSink

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_BLOCK = frozenset(
    {"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "footer"}
    | {"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre"}
    | {"section", "table", "tbody", "thead", "tfoot", "tr", "ul"}
)
_NOT_RENDERED: dict[str, HiddenKind] = {
    "script": "script",
    "style": "style",
    "title": "non_rendered",
    "template": "non_rendered",
}
_QUOTE_CLASSES = frozenset({"gmail_quote", "yahoo_quoted", "moz-cite-prefix"})
# An opening tag of these closes an open element of the listed kinds (HTML's implied end tags).
_CLOSES = {"p": {"p"}, "li": {"li"}, "tr": {"tr", "td", "th"}, "td": {"td", "th"}}
_CLOSES |= {"th": {"td", "th"}, "option": {"option"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}}
_MAX_OPEN = 512
_TAG = re.compile(r"<[^>]*>")
_STYLING = frozenset({"style", "hidden", "color", "bgcolor", "background"})
_WHITE: Color = (255, 255, 255)
_BLACK: Color = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class _Frame:
    tag: str
    hidden: HiddenKind | None
    override: str | None
    quoted: bool
    color: Color
    background: Color | None


@dataclass(frozen=True, slots=True)
class HtmlView:
    """The rendered HTML: visible text, quoted text, hidden (kind, text) pairs, defects."""

    visible: str
    quoted: str
    hidden: tuple[tuple[HiddenKind, str], ...]
    defects: tuple[str, ...]


def render_html(html: str, limits: MimeLimits) -> HtmlView:
    """Render ``html`` (cut at the HTML limit); broken markup degrades, it never raises."""
    found = []
    if len(html) > limits.max_html_chars:
        found.append(defects.HTML_TRUNCATED)
        html = html[: limits.max_html_chars]
    renderer = _Renderer(limits)
    try:
        renderer.feed(defuse(html))
        renderer.close()
    except Exception:  # html.parser asserts on malformed declarations we did not foresee
        found.append(defects.HTML_PARSE_ERROR)
        renderer.sink.text(_TAG.sub(" ", renderer.rawdata), quoted=False)
    sink = renderer.sink
    return HtmlView(sink.visible_text(), sink.quoted_text(), sink.fragments(), tuple(found))


class _Renderer(HTMLParser):
    def __init__(self, limits: MimeLimits) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = TextSink(limits)
        self.rules: Rules = {}
        self.stack = [_Frame("#root", None, None, False, _BLACK, _WHITE)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _VOID:
            self._void(tag, values)
            return
        self._close_implied(tag)
        frame = self._frame(tag, values, self.stack[-1])
        if len(self.stack) < _MAX_OPEN:
            self.stack.append(frame)
        if tag in _BLOCK:
            self.sink.line_break(frame.quoted)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        names = [frame.tag for frame in self.stack]
        if tag not in names[1:]:
            return
        while len(self.stack) > 1 and self.stack.pop().tag != tag:
            pass
        if tag in _BLOCK:
            self.sink.line_break(self.stack[-1].quoted)

    def handle_data(self, data: str) -> None:
        top = self.stack[-1]
        if top.tag == "style":
            learn_rules(data, self.rules)
        if top.hidden is not None:
            self.sink.hidden(top.hidden, data)
        else:
            self.sink.text(data, top.quoted)

    def handle_comment(self, data: str) -> None:
        self.sink.hidden("comment", data)

    def _void(self, tag: str, values: dict[str, str]) -> None:
        top = self.stack[-1]
        if tag in ("br", "hr"):
            self.sink.line_break(top.quoted)
        elif tag == "img" and values.get("alt", "").strip():
            self.sink.hidden(top.hidden or "alt_text", values["alt"])

    def _close_implied(self, tag: str) -> None:
        closes = _CLOSES.get(tag, set())
        if tag in _BLOCK:
            closes = closes | {"p"}
        while len(self.stack) > 1 and self.stack[-1].tag in closes:
            self.stack.pop()

    def _frame(self, tag: str, values: dict[str, str], parent: _Frame) -> _Frame:
        quoted = parent.quoted or _is_quote(tag, values)
        if _plain(tag, values, self.rules):
            # Most elements style nothing: they inherit everything, a cost that stays flat.
            return _Frame(
                tag, parent.hidden, parent.override, quoted, parent.color, parent.background
            )
        decls = matching(self.rules, tag, values) | declarations(values.get("style", ""))
        hidden: HiddenKind | None
        hidden, override = _inherited(parent, decls)
        if hidden is None:
            hidden, override = _own_hiding(tag, values, decls)
        color = parse_color(decls.get("color") or values.get("color")) or parent.color
        background = _background(values, decls, parent)
        if hidden is None and background is not None and too_close(color, background):
            hidden = "same_color"
        return _Frame(tag, hidden, override, quoted, color, background)


def _plain(tag: str, values: dict[str, str], rules: Rules) -> bool:
    if tag in _NOT_RENDERED or not _STYLING.isdisjoint(values):
        return False
    return not rules or not ("class" in values or "id" in values)


def _inherited(parent: _Frame, decls: dict[str, str]) -> tuple[HiddenKind | None, str | None]:
    # Same-colour hiding is judged afresh on every element: a child may set its own colour.
    if parent.hidden in (None, "same_color"):
        return None, None
    if parent.override is not None and overrides(parent.override, decls):
        return None, None
    return parent.hidden, parent.override


def _own_hiding(
    tag: str, values: dict[str, str], decls: dict[str, str]
) -> tuple[HiddenKind | None, str | None]:
    if tag in _NOT_RENDERED:
        return _NOT_RENDERED[tag], None
    if "hidden" in values:
        return "css_hidden", None
    return hiding(decls) or (None, None)


def _background(values: dict[str, str], decls: dict[str, str], parent: _Frame) -> Color | None:
    if hides_background(decls) or values.get("background"):
        return None
    own = background_color(decls) or parse_color(values.get("bgcolor"))
    if own is None or own == (-1, -1, -1):
        return parent.background
    return own


def _is_quote(tag: str, values: dict[str, str]) -> bool:
    if tag == "blockquote":
        return True
    return not _QUOTE_CLASSES.isdisjoint(values.get("class", "").split())
