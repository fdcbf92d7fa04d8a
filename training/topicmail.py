"""Composes benign mail about security, IT, AI and marketing from the per-split phrasings.

Only the training and validation splits use these; each mail is greeting, a few sentences of one
topic, sometimes a line in another script, a sign-off, and now and then a marketing HTML body
with a hidden preheader.
"""

from __future__ import annotations

import html
import random

from training.benign import HardNegative
from training.mailtopics import FOREIGN, GREETINGS, PREHEADERS, SIGNOFFS, TOPICS

_NAMES = ("Noor", "Felix", "Ines", "Raj", "Chen", "Marta", "Kofi", "Yuki", "Ada", "Luca")
_SERVICES = ("Slack", "Okta", "Salesforce", "the VPN", "Microsoft 365", "Jira", "Workday")
_DAYS = ("Monday", "Thursday", "the 14th", "next Tuesday", "the end of the month")
_SUBJECTS = {
    "train": ("Update", "Reminder", "Action needed", "FYI", "News", "Important"),
    "validation": ("Heads-up", "Notice", "Weekly", "Please read", "Info", "Bulletin"),
}
_LAYOUTS = {
    "train": (
        '<html><head><style>.x{{color:#333}}</style></head><body style="margin:0">'
        '<div style="display:none;max-height:0;overflow:hidden">{pre}&zwnj;&nbsp;&zwnj;</div>'
        '<table width="100%" role="presentation"><tr><td class="x">{body}</td></tr></table>'
        '<p style="font-size:11px;color:#999">View in browser | Unsubscribe | Privacy</p>'
        '<img src="https://click.example.com/open/{token}.gif" width="1" height="1" alt="">'
        "</body></html>"
    ),
    "validation": (
        '<!DOCTYPE html><html><body><span style="opacity:0;font-size:1px;color:#fff">{pre}</span>'
        '<!--[if mso]><table width="600"><tr><td><![endif]--><div class="wrap">{body}</div>'
        "<!--[if mso]></td></tr></table><![endif]-->"
        '<footer style="font-size:10px">Manage preferences or unsubscribe.</footer>'
        '<img src="https://px.example.net/{token}" width="1" height="1"></body></html>'
    ),
}


def topic_mails(split: str, rng: random.Random, count: int) -> list[HardNegative]:
    """``count`` benign mails composed from ``split``'s phrasings (training or validation)."""
    return [_mail(split, rng) for _ in range(count)]


def _mail(split: str, rng: random.Random) -> HardNegative:
    topic = rng.choice(sorted(TOPICS[split]))
    sentences = rng.sample(TOPICS[split][topic], min(len(TOPICS[split][topic]), rng.randint(1, 4)))
    if rng.random() < 0.2:
        sentences.append(rng.choice(FOREIGN[split]))
    paragraphs = [rng.choice(GREETINGS[split]), *sentences, rng.choice(SIGNOFFS[split])]
    text = _fill("\n\n".join(p for p in paragraphs if p), rng)
    subject = f"{rng.choice(_SUBJECTS[split])}: {topic.replace('_', ' ')}"
    page = _marketing(split, text, rng) if rng.random() < 0.35 else ""
    return HardNegative(f"topic:{topic}", subject, text, page)


def _marketing(split: str, text: str, rng: random.Random) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
    return _LAYOUTS[split].format(
        pre=html.escape(rng.choice(PREHEADERS[split])), body=body, token=rng.randbytes(6).hex()
    )


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(_NAMES),
        service=rng.choice(_SERVICES),
        day=rng.choice(_DAYS),
        number=rng.randint(2, 99),
        number2=rng.randint(0, 9),
    )
