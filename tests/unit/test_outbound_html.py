"""The outbound HTML sanitiser: nh3's output read back, every character reference decoded,
invisible characters scrubbed from text nodes and attribute values, and escaped again."""

from __future__ import annotations

import html
import re

import pytest

from mailmoat.common.mail.html import read_html, sanitise_html
from mailmoat.common.mail.invisible import INVISIBLE_CLASS

INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")
REFERENCE = re.compile(r"&(#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);?", re.IGNORECASE)
HIDDEN = {
    "decimal zero-width space": "&#8203;",
    "hex zero-width space": "&#x200B;",
    "hex, capital X": "&#X200b;",
    "leading zeros": "&#0008203;",
    "named zero-width space": "&ZeroWidthSpace;",
    "zero-width non-joiner": "&zwnj;",
    "zero-width joiner": "&zwj;",
    "right-to-left mark": "&rlm;",
    "left-to-right mark": "&lrm;",
    "right-to-left override": "&#8238;",
    "left-to-right isolate": "&#x2066;",
    "pop directional isolate": "&#x2069;",
    "soft hyphen": "&shy;",
    "soft hyphen, no semicolon": "&shy",
    "word joiner": "&NoBreak;",
    "byte order mark": "&#xFEFF;",
    "language tag": "&#917505;",
    "tag latin capital A": "&#xE0041;",
    "cancel tag": "&#xe007f;",
    "variation selector": "&#xFE0F;",
    "hangul filler": "&#x3164;",
    "zero-width space, no semicolon": "&#8203",
    "a run": "&#8203;&zwnj;&#x202E;&#917505;",
}


def _hidden_references(text: str) -> list[str]:
    """The character references in ``text`` that stand for an invisible character."""
    found = (m.group() for m in REFERENCE.finditer(text))
    return [ref for ref in found if INVISIBLE.search(html.unescape(ref))]


def _clean_everywhere(output: str) -> None:
    assert not INVISIBLE.search(output), ascii(output)
    assert _hidden_references(output) == [], output
    assert not INVISIBLE.search(html.unescape(output)), ascii(output)


@pytest.mark.parametrize("reference", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_reference_to_an_invisible_character_is_removed_from_text(reference: str) -> None:
    clean = sanitise_html(f"<p>pass{reference}word</p>")
    assert clean == "<p>password</p>"


@pytest.mark.parametrize("reference", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_reference_to_an_invisible_character_is_removed_from_attributes(
    reference: str,
) -> None:
    clean = sanitise_html(
        f'<a href="https://example.org/a{reference}/b" title="x{reference} y">link</a>'
    )
    assert 'href="https://example.org/a/b"' in clean
    assert 'title="x y"' in clean
    _clean_everywhere(clean)


def test_raw_invisible_characters_go_too() -> None:
    raw = "\u200b\u200d\u202e\u2066\u00ad\ufeff\U000e0001\U000e0041"
    clean = sanitise_html(f'<p>a{raw}b</p><abbr title="t{raw}">c</abbr>')
    assert clean == '<p>ab</p><abbr title="t">c</abbr>'


def test_markup_stays_escaped_and_a_spelt_out_reference_stays_visible() -> None:
    clean = sanitise_html(
        '<p>&lt;script&gt;x&lt;/script&gt; &amp;#8203; &quot;q&quot;</p><a title="&quot;&lt;">l</a>'
    )
    assert clean == (
        '<p>&lt;script&gt;x&lt;/script&gt; &amp;#8203; "q"</p>'
        '<a title="&quot;&lt;" rel="noopener noreferrer nofollow">l</a>'
    )


def test_ordinary_references_are_kept_as_characters() -> None:
    clean = sanitise_html("<p>caf&eacute; &euro;5 &#169; a&nbsp;b &amp; c</p>")
    assert clean == "<p>caf\u00e9 \u20ac5 \u00a9 a&nbsp;b &amp; c</p>"
    assert sanitise_html('<a href="https://example.org/?a=1&amp;b=2">l</a>').startswith(
        '<a href="https://example.org/?a=1&amp;b=2"'
    )


def test_a_scheme_joined_back_together_by_the_scrub_is_still_refused() -> None:
    for href in ("java&#8203;script:alert(1)", "java&#x200b;script:alert(1)", "vb&shy;script:x"):
        clean = sanitise_html(f'<a href="{href}">click</a>')
        assert "href" not in clean, clean
        assert "script:" not in clean, clean


@pytest.mark.parametrize(
    "markup",
    [
        "\u0645\u06cc&zwnj;\u062e\u0648\u0627\u0647\u0645",  # Persian: the ZWNJ shapes the word
        "\u0915\u094d&zwj;\u0937",  # Devanagari half form
        "&#x1F469;&zwj;&#x1F4BB;",  # woman technologist
    ],
)
def test_a_joiner_the_script_needs_is_kept(markup: str) -> None:
    clean = sanitise_html(f"<p>{markup}</p>")
    assert clean == f"<p>{html.unescape(markup)}</p>"


def test_a_leading_newline_in_pre_is_kept() -> None:
    assert sanitise_html("<pre>\n\nline</pre>") == "<pre>\nline</pre>"
    assert sanitise_html("<pre>line</pre>") == "<pre>line</pre>"


@pytest.mark.parametrize(
    "markup",
    [
        '<p title="a&#8203;b',  # attribute never closed
        "<p>a&#8203;b<b>c&zwnj;d",  # elements never closed
        "<<b>>&#8203;<</b>>",
        "<a href='https://example.org/&#8203;' title=x&#8203;y>l",
        "<!-- &#8203; never closed",
        "<![CDATA[&#8203;]]>x&#x200b;y",
        "<svg><title>&#8203;</title><desc>a&#8238;b</desc></svg>",
        "<table><tr>&#8203;<td>x&#917505;</table>",
        "<p>a</p></p></div>&#8238;b",
        "&#xZZZZ; &#; &# &#x; &#99999999999; &#xD800; &zwnj &ZeroWidthSpace",
        "<div>" * 500 + "&#8203;" + "</div>" * 3,
        "<b>&#8203;</b>" * 2000,
    ],
)
def test_malformed_html_leaves_nothing_invisible(markup: str) -> None:
    clean = sanitise_html(markup)
    _clean_everywhere(clean)
    assert sanitise_html(clean) == clean


def test_the_reading_decodes_text_and_attribute_values() -> None:
    reading = read_html(
        "<p>pass<b>&#8203;</b>word<br>two</p>"
        '<a href="https://example.org/p%61ss&#8203;word" title="PASS&shy;WORD">link</a>'
    )
    assert reading.joined == "passwordtwolink"
    assert reading.spaced == "pass word two link"
    assert reading.values == (
        "https://example.org/p%61ssword",
        "PASSWORD",
        "https://example.org/password",
    )
