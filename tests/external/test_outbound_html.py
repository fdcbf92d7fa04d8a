"""The XSS vector suites (DOMPurify, HTML5 Security Cheatsheet, OWASP, bleach) through the
outbound HTML sanitiser: the output, parsed again as a browser would, carries no event handler,
no dangerous element, no script-capable URL and no CSS url()/expression()."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from mailmoat.common.mail.html import sanitise_html
from tests.support.external import report, xss_suites

FORBIDDEN_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "base", "meta", "form", "svg", "math", "style",
     "img", "link", "frame", "frameset", "applet", "audio", "video", "source", "input",
     "button", "textarea", "select", "template", "isindex"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster",
     "lowsrc", "dynsrc", "codebase", "srcset", "ping", "cite", "longdesc", "usemap"}
)  # fmt: skip
BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data):", re.IGNORECASE)
BAD_CSS = re.compile(r"expression\s*\(|url\s*\(", re.IGNORECASE)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.violations: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.violations.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.violations.append(f"{name}=")
            if name in URL_ATTRIBUTES and value and BAD_SCHEME.match(_browser_trim(value)):
                self.violations.append(f"{name}={value[:40]}")
            if name == "style" and value and BAD_CSS.search(html.unescape(value)):
                self.violations.append(f"style={value[:40]}")

    handle_startendtag = handle_starttag


def _browser_trim(url: str) -> str:
    """What a browser makes of a URL before reading its scheme: entities decoded, leading
    control characters and spaces dropped, tabs and newlines removed anywhere."""
    url = html.unescape(url)
    url = re.sub(r"^[\x00-\x20]+", "", url)
    return re.sub(r"[\t\n\r]", "", url)


def violations(payload: str) -> list[str]:
    checker = _Checker()
    checker.feed(sanitise_html(payload))
    checker.close()
    return checker.violations


def test_no_vector_survives_sanitising() -> None:
    failures = {}
    for suite, payloads in xss_suites().items():
        bad = {i: v for i, p in enumerate(payloads) if (v := violations(p))}
        report(f"outbound html {suite}", len(payloads) - len(bad), len(payloads))
        failures.update({f"{suite}#{i}": v for i, v in bad.items()})
    assert not failures


def test_the_checker_sees_what_it_looks_for() -> None:
    """The checker itself, on unsanitised HTML: it would catch each kind of violation."""
    for raw in (
        '<a href=" &#106;avascript:alert(1)">x</a>',
        '<div style="background:url(x)">x</div>',
        "<svg><g/></svg>",
        '<p onmouseover="x">x</p>',
    ):
        checker = _Checker()
        checker.feed(raw)
        assert checker.violations, raw


def test_ordinary_formatting_and_links_survive() -> None:
    clean = sanitise_html(
        '<p>See <a href="https://example.org/q?a=1">the report</a> and '
        '<a href="mailto:bob@example.org">mail Bob</a>.</p><ul><li><b>one</b></li></ul>'
    )
    assert '<a href="https://example.org/q?a=1" rel="noopener noreferrer nofollow">' in clean
    assert 'href="mailto:bob@example.org"' in clean
    assert "<ul><li><b>one</b></li></ul>" in clean
