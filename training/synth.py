"""Email-shaped examples: attacks placed into real carrier mail, rendered as MIME and parsed by
the production parser so training sees exactly the segments the scanner sees."""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from mailmoat.ingest.domain.mime import parse_message
from mailmoat.scanner.domain.content import ScanContent
from training.attacks import encode
from training.benign import HardNegative
from training.mailattacks import in_forward, in_signature

PLACEMENTS = ("start", "middle", "end", "quoted", "hidden", "attachment", "encoded")
MAIL_PLACEMENTS = ("signature", "forward")
"""Training and validation only: spots that mail has and chat prompts do not."""
MAX_TEXT = 6000
MAX_HTML = 15000
_HIDERS = (
    '<span style="display:none">{}</span>',
    "<!-- {} -->",
    '<div style="color:#ffffff;background-color:#ffffff">{}</div>',
    '<span style="font-size:0px">{}</span>',
    '<p style="visibility:hidden">{}</p>',
)


@dataclass(frozen=True)
class Carrier:
    """A real mail's subject and bodies, to carry an attack or to stay benign."""

    subject: str
    text: str
    html: str = ""


@dataclass(frozen=True)
class Example:
    """One synthetic mail as the scanner sees it, with its label and how it was made."""

    content: ScanContent
    label: int
    placement: str
    attack: str
    source: str


def carrier_from_raw(raw: bytes) -> Carrier:
    message = parse_message(raw).message
    return Carrier(message.subject, message.text_body[:MAX_TEXT], message.html_body[:MAX_HTML])


def scan_content(raw: bytes) -> ScanContent:
    """What the scanner reads: ingest's structured parse, attachments' text included."""
    return ScanContent.from_structured(parse_message(raw).message)


def render(carrier: Carrier, attachment: str = "") -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Sender <sender@example.net>"
    message["To"] = "agent@example.com"
    message["Subject"] = carrier.subject.replace("\n", " ")[:200]
    message["Date"] = "Tue, 04 Jun 2024 10:00:00 +0000"
    message.set_content(carrier.text or " ")
    if carrier.html:
        message.add_alternative(carrier.html, subtype="html")
    if attachment:
        message.add_attachment(attachment, filename="notes.txt")
    return message.as_bytes()


def benign_example(raw: bytes, source: str) -> Example:
    return Example(scan_content(raw), 0, "none", "", source)


def hard_negative_example(carrier: Carrier, negative: HardNegative, rng: random.Random) -> Example:
    """A risky-looking benign body, on its own or above a real mail's text."""
    text = negative.text
    if rng.random() < 0.5:
        text = f"{text}\n\n{carrier.text}"
    mail = Carrier(negative.subject, text, negative.html)
    return Example(scan_content(render(mail)), 0, "none", "", f"hard:{negative.family}")


def attack_example(
    carrier: Carrier, attack: str, source: str, placement: str, rng: random.Random
) -> Example:
    """``attack`` placed into ``carrier`` at ``placement``."""
    attachment = ""
    text, page = carrier.text, carrier.html
    if placement in ("start", "middle", "end"):
        text = _insert(text, attack, placement, rng)
        page = _insert_html(page, f"<p>{html.escape(attack)}</p>", placement) if page else ""
    elif placement in ("quoted", "signature", "forward"):
        text = _MAIL_SPOTS[placement](text, attack, rng)
        page = ""
    elif placement == "hidden":
        page = _insert_html(page or _as_html(text), _hide(attack, rng), rng.choice(PLACEMENTS[:3]))
    elif placement == "attachment":
        attachment = _insert(carrier.text[:1500], attack, rng.choice(PLACEMENTS[:3]), rng)
    else:
        trick, hidden = encode(attack, rng)
        source = f"{source}+{trick}"
        text = _insert(text, hidden, rng.choice(PLACEMENTS[:3]), rng)
        page = ""
    mail = Carrier(carrier.subject, text, page)
    return Example(scan_content(render(mail, attachment)), 1, placement, attack, source)


def _quoted(text: str, attack: str, rng: random.Random) -> str:
    history = _insert(text[:1500], attack, rng.choice(PLACEMENTS[:3]), rng)
    quoted = "\n".join(f"> {line}" for line in history.splitlines())
    name = rng.choice(("Alex Kim", "J. Ortega", "support", "Maria"))
    reply = rng.choice(("Thanks, see below.", "Forwarding this one.", "Any update on this?"))
    return (
        f"{reply}\n\nOn Mon, 3 Jun 2024 at 09:12, {name} <{name[:3].lower()}@example.org> "
        f"wrote:\n{quoted}\n"
    )


_MAIL_SPOTS = {"quoted": _quoted, "signature": in_signature, "forward": in_forward}


def _insert(text: str, attack: str, where: str, rng: random.Random) -> str:
    if where == "start" or not text.strip():
        return f"{attack}\n\n{text}"
    if where == "end":
        return f"{text.rstrip()}\n\n{attack}\n"
    breaks = _breaks(text)
    cut = rng.choice(breaks[len(breaks) // 4 : max(len(breaks) // 4 + 1, 3 * len(breaks) // 4)])
    return f"{text[:cut]}\n\n{attack}\n\n{text[cut:]}"


def _breaks(text: str) -> list[int]:
    """Where an inserted paragraph may go: paragraph breaks, else line or sentence ends, else
    spaces; never inside a word."""
    for pattern in (r"\n\s*\n", r"\n|[.!?] ", r" "):
        found = [m.end() for m in re.finditer(pattern, text)]
        if found:
            return found
    return [len(text)]


def _insert_html(page: str, fragment: str, where: str) -> str:
    lower = page.lower()
    if where == "start":
        at = lower.find(">", lower.find("<body")) + 1 if "<body" in lower else 0
    elif where == "end":
        at = lower.rfind("</body>") if "</body>" in lower else len(page)
    else:
        at = lower.find("</p>", len(page) // 2)
        at = at + 4 if at >= 0 else len(page)
    return page[:at] + fragment + page[at:]


def _as_html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return f"<html><body>{paragraphs}</body></html>"


def _hide(attack: str, rng: random.Random) -> str:
    return rng.choice(_HIDERS).format(html.escape(attack).replace("--", "- -"))
