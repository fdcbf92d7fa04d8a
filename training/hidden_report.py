"""The hidden-prose rules (hidden.addressed_to_ai, hidden.instruction, hidden.link): what they
cost on benign HTML mail and what they catch when an attack is hidden in HTML.

Benign: SpamAssassin easy_ham_1 as received, and the BIPIA train emails as plain text and
dressed as HTML newsletters (preheader, view-online link, tracking pixel, logo and social alt
text, Outlook conditional and template comments, unsubscribe footer). Marketing-style:
SpamAssassin spam_1's HTML mails, not benign, but full of preheaders, titles and alt text.
Attacks: every BIPIA train text attack hidden by each method in a newsletter carrier. Every mail
goes through ingest's parser, as in production; "before" is the same verdict with the
hidden-prose rules' findings left out.

Run with ``python -m training.hidden_report`` (``--show N`` prints N fired or missed mails).
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from mailmoat.ingest.domain.mime import parse_message
from mailmoat.scanner.domain.checker import WEIGHTS, RuleChecker
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.domain.rules.base import hidden_kind
from mailmoat.scanner.domain.rules.hidden_prose import NOT_PROSE
from mailmoat.scanner.domain.rules.scoring import FLAG_AT, score_findings
from training.metrics import pct
from training.sources import Corpus, load_corpus

NEW_CODES = frozenset({"hidden.addressed_to_ai", "hidden.instruction", "hidden.link"})
CHECKER = RuleChecker()
Hide = Callable[[str], str]
METHODS: dict[str, Hide] = {
    "display:none": lambda a: f'<div style="display:none">{a}</div>',
    "visibility:hidden": lambda a: f'<p style="visibility:hidden">{a}</p>',
    "white on white": lambda a: f'<p style="color:#ffffff">{a}</p>',
    "font-size:0": lambda a: f'<span style="font-size:0">{a}</span>',
    "off-screen": lambda a: f'<div style="position:absolute;left:-9999px">{a}</div>',
    "html comment": lambda a: f"<!-- {a} -->",
    "alt text": lambda a: f'<img src="https://cdn.example.com/b.png" alt="{a}">',
}


@dataclass(frozen=True)
class Verdict:
    """One mail judged with and without the hidden-prose rules."""

    label: str
    has_html: bool
    hidden: bool
    """Any hidden fragment, code (style, script) and invisible characters included."""
    hidden_prose: bool
    fired: tuple[str, ...]
    before: bool
    after: bool
    sample: str = ""
    """The hidden attack, for the list of misses."""


LEGEND = """
html: mails with an HTML body; hidden: with any hidden fragment; prose: with hidden prose (not
style, script or invisible characters). rule fired: mails where a hidden-prose rule fired (share
of the HTML mails). checker before/after: the checker's flag rate over all mails, without and
with the hidden-prose rules."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", type=int, default=0, help="print this many fired/missed mails")
    args = parser.parse_args()
    corpus = load_corpus()
    benign, spam = _benign(corpus)
    attacks = _hidden_attacks(corpus.bipia_text_attacks, corpus.bipia_emails)
    print(LEGEND)
    _show("fired on benign", [v for v in benign if v.fired], args.show)
    _show("fired on spam_1", [v for v in spam if v.fired], args.show)
    _show("missed attack", [v for v in attacks if not v.after], args.show)


def _benign(corpus: Corpus) -> tuple[list[Verdict], list[Verdict]]:
    """Print the benign and marketing tables; return their verdicts."""
    print(
        f"{'benign':<28} {'mails':>6} {'html':>5} {'hidden':>6} {'prose':>6} "
        f"{'rule fired':>11} {'checker before':>15} {'after':>6}"
    )
    emails = corpus.bipia_emails
    ham = [_judge(raw, "easy-ham-1") for raw in corpus.spam_assassin["easy-ham-1"]]
    plain = [_judge(_mime(s, text=b), "bipia") for s, b in emails]
    dressed = [_judge(_mime(s, html_body=_newsletter(s, b)), "bipia") for s, b in emails]
    _line("easy_ham_1", ham)
    _line("bipia train, plain", plain)
    _line("bipia train, as newsletter", dressed)
    _line("all benign", ham + plain + dressed)
    verdicts = (_judge(raw, "spam-1") for raw in corpus.spam_assassin["spam-1"])
    spam = [v for v in verdicts if v.has_html]
    print("\nmarketing-style HTML (not benign)")
    _line("spam_1 mails with HTML", spam)
    return ham + plain + dressed, spam


def _hidden_attacks(attacks: list[str], emails: list[tuple[str, str]]) -> list[Verdict]:
    """Print the catch rate per hiding method; return the verdicts."""
    print(
        f"\n{'hidden attack (bipia train)':<28} {'mails':>6} {'rule fired':>31} "
        f"{'checker before':>15} {'after':>6}"
    )
    verdicts = _attacks(attacks, emails)
    for method in METHODS:
        _line(method, [v for v in verdicts if v.label == method], counts=False)
    _line("all methods", verdicts, counts=False)
    return verdicts


def _judge(raw: bytes, label: str, sample: str = "") -> Verdict:
    message = parse_message(raw).message
    content = ScanContent.from_structured(message)
    findings = CHECKER.judge(content).findings
    fired = tuple(f"{f.code} {f.reason}" for f in findings if f.code in NEW_CODES)
    kept = [f for f in findings if f.code not in NEW_CODES]
    prose = any(hidden_kind(s.part) not in (None, *NOT_PROSE) for s in content.segments)
    return Verdict(
        label=label,
        has_html=bool(message.html_body),
        hidden=bool(message.hidden_content),
        hidden_prose=prose,
        fired=fired,
        before=score_findings(kept, WEIGHTS) >= FLAG_AT,
        after=score_findings(findings, WEIGHTS) >= FLAG_AT,
        sample=sample,
    )


def _attacks(attacks: list[str], emails: list[tuple[str, str]]) -> list[Verdict]:
    verdicts = []
    for n, attack in enumerate(attacks):
        subject, body = emails[n % len(emails)]
        for method, hide in METHODS.items():
            page = _newsletter(subject, body, hide(html.escape(attack)))
            verdicts.append(_judge(_mime(subject, html_body=page), method, attack))
    return verdicts


def _newsletter(subject: str, body: str, inside: str = "") -> str:
    """``body`` as a newsletter, with the hidden furniture real ones carry; ``inside`` goes
    after the first paragraph."""
    paragraphs = [f"<p>{html.escape(p)}</p>" for p in body.split("\n") if p.strip()] or ["<p></p>"]
    preheader = html.escape(body.split(".")[0][:90])
    return (
        f"<html><head><title>{html.escape(subject)}</title>"
        "<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch>"
        "</o:OfficeDocumentSettings></xml><![endif]--></head><body>\n<!-- Header -->\n"
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
        f"{preheader} &zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;</div>\n"
        '<p><a href="https://news.example.com/view/8812">View this email in your browser</a></p>'
        '<img src="https://news.example.com/logo.png" alt="Company logo">\n'
        f"{paragraphs[0]}{inside}{''.join(paragraphs[1:])}\n"
        '<!--[if mso]><v:roundrect href="https://news.example.com/more" style="height:40px">'
        "<center>Read more</center></v:roundrect><![endif]-->\n"
        '<a href="https://facebook.com/x"><img src="fb.png" alt="Facebook"></a>'
        '<a href="https://twitter.com/x"><img src="tw.png" alt="Twitter"></a>\n'
        '<!-- END FOOTER --><p><a href="https://news.example.com/u/8812">Unsubscribe</a></p>'
        '<img src="https://t.example.com/open.gif" width="1" height="1" alt="" border="0">'
        "</body></html>"
    )


def _mime(subject: str, text: str = "", html_body: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = "news@sender.example"
    message["To"] = "reader@example.com"
    message["Subject"] = " ".join(subject.split())[:200]
    if html_body:
        message.set_content(html_body, subtype="html")
    else:
        message.set_content(text)
    return message.as_bytes()


def _line(name: str, rows: list[Verdict], counts: bool = True) -> None:
    fired = sum(bool(v.fired) for v in rows)
    with_html = sum(v.has_html for v in rows)
    before, after = _rate(v.before for v in rows), _rate(v.after for v in rows)
    share = f"{fired} ({pct(fired / with_html) if with_html else 'n/a'})"
    if counts:
        hidden, prose = sum(v.hidden for v in rows), sum(v.hidden_prose for v in rows)
        print(
            f"  {name:<26} {len(rows):>6} {with_html:>5} {hidden:>6} {prose:>6} {share:>11} "
            f"{before:>15} {after:>6}"
        )
    else:
        print(f"  {name:<26} {len(rows):>6} {share:>31} {before:>15} {after:>6}")


def _rate(flags: Iterable[bool]) -> str:
    values = list(flags)
    return pct(sum(values) / len(values)) if values else "n/a"


def _show(what: str, rows: list[Verdict], limit: int) -> None:
    for verdict in rows[:limit]:
        shown = verdict.sample or " | ".join(verdict.fired)
        print(f"[{what} {verdict.label}] {shown[:300]}")


if __name__ == "__main__":
    main()
