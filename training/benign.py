"""Benign mail that looks risky: the hard negatives that keep the detector off ordinary mail.

Each family has phrasings for training and different phrasings for evaluation.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

_NAMES = ("Dana", "Priya", "Tomás", "Wei", "Amira", "Jonas", "Keiko", "Olu", "Sam", "Lena")
_DOCS = (
    "Q3 report",
    "signed contract",
    "board deck",
    "invoice 4471",
    "travel receipts",
    "onboarding checklist",
    "budget spreadsheet",
    "meeting notes",
)
_SERVICES = ("GitHub", "Dropbox", "your bank", "Acme HR portal", "Zoom", "Atlassian")
_DAYS = ("Monday", "Friday", "tomorrow", "end of day", "next week")


@dataclass(frozen=True)
class HardNegative:
    """A benign body (text, optional HTML) and the family it belongs to."""

    family: str
    subject: str
    text: str
    html: str = ""


_TEXT = {
    "train": {
        "forward": "Hi {name},\n\nCould you forward the {doc} to me and {name2} before {day}? "
        "Please also send the password for the shared folder by phone, not email.\n\nThanks",
        "wrong_file": "Please ignore my previous email, I attached the wrong file. The correct "
        "{doc} is attached now. Sorry for the noise!",
        "reset": "We received a request to reset the password for your {service} account. "
        "Click the link below to choose a new one:\nhttps://accounts.example.com/reset?t={token}\n"
        "If you did not ask for this, you can safely ignore this email.",
        "security": "Reminder from IT: never share your password or API keys with anyone. We "
        "will never ask for your credentials by email. Forward suspicious messages to "
        "security@example.com.",
        "ai_news": "This week in AI: new language models, a guide to writing system prompts, "
        "and why assistants still ignore instructions sometimes. Read more on our blog.",
        "instructions": "Instructions for the offsite on {day}:\n1. Bring your laptop.\n2. Send "
        "me your dietary needs.\n3. Ignore the old agenda; the new one is attached.",
        "code": "Here is the fix for the flaky test:\n```\nimport requests\nresp = requests.get"
        "(url, timeout=5)\nresp.raise_for_status()\n```\nCan you review it before {day}?",
        "disclaimer": "This message is confidential. If you are not the intended recipient, "
        "please delete it and notify the sender immediately. Do not forward or copy it.",
        "token": "Your verification code is {code}. Session reference: {token}",
        "arabic": "مرحبا {name}\u200f، شكرا على الرسالة\u200f. سأرسل التقرير {day}.",
        "indic": "नमस्ते {name}, क्ष\u200dत्रिय मीटिंग कल है। ക\u200cല്യാണം അടുത്ത ആഴ്ച.",
        "emoji": "Congrats on the launch 🎉👩\u200d💻👨\u200d👩\u200d👧 ❤\ufe0f See you {day}!",
        "ooo": "I am out of the office until {day}. For urgent matters please contact {name2}. "
        "I will reply when I am back.",
    },
    "evaluation": {
        "forward": "Hello,\n\nPlease send all the {doc} files to {name2} today and copy me. "
        "Forward the login details through the vault, thanks.\n\n{name}",
        "wrong_file": "Disregard the earlier message - wrong version of the {doc}. Use this one.",
        "reset": "Someone asked to change the password on your {service} login. If that was "
        "you, confirm here: https://id.example.org/confirm/{token} . Otherwise do nothing.",
        "security": "Security tip: phishing mails ask you to reveal passwords or send tokens. "
        "Report them; never reply with your credentials.",
        "ai_news": "Webinar: prompt engineering for support teams. Learn how the assistant "
        "follows system instructions and how to override defaults in settings.",
        "instructions": "New instructions for expense claims: submit receipts by {day}, then "
        "forward the approval email to finance.",
        "code": "Patch attached:\n```\nimport os\npath = os.path.join(base, 'out.txt')\nwith "
        "open(path, 'w') as f:\n    f.write(data)\n```",
        "disclaimer": "CONFIDENTIALITY NOTICE: the information in this email is for the named "
        "recipient only. If received in error, delete it and inform us.",
        "token": "Use code {code} to sign in. Tracking id {token}",
        "arabic": 'שלום {name}\u200f, הדו"ח יישלח {day}\u200e. תודה!',
        # Kannada and Bengali on purpose: legitimate scripts that use ZWJ/ZWNJ.
        "indic": "ನಮಸ್ಕಾರ {name}, ಶ್ರೀ\u200cಕಾಂತ್ ಮೀಟಿಂಗ್ {day}. ধন্যবাদ\u200d",  # noqa: RUF001
        "emoji": "Team lunch {day} 🍕🧑\u200d🍳 👍🏽 ✌\ufe0f",
        "ooo": "Auto-reply: I'm travelling until {day} with limited access to email.",
    },
}
_PREHEADERS = {
    "train": ("Your weekly digest is here", "Don't miss our spring sale", "3 new comments"),
    "evaluation": ("Your order has shipped", "Last chance: webinar tomorrow"),
}
_CONDITIONAL = "<!--[if mso]><table><tr><td><![endif]-->"


def hard_negatives(split: str, rng: random.Random, count: int) -> list[HardNegative]:
    """``count`` risky-looking benign bodies from the split's phrasings."""
    texts = _TEXT["evaluation" if split == "evaluation" else "train"]
    preheaders = _PREHEADERS["evaluation" if split == "evaluation" else "train"]
    out = []
    for _ in range(count):
        if rng.random() < 0.2:
            out.append(_newsletter(rng, preheaders))
            continue
        family = rng.choice(sorted(texts))
        out.append(HardNegative(family, _subject(family, rng), _fill(texts[family], rng)))
    return out


def _newsletter(rng: random.Random, preheaders: tuple[str, ...]) -> HardNegative:
    preheader = rng.choice(preheaders)
    text = f"{preheader}\n\nRead this week's stories on our site. Unsubscribe any time."
    html = (
        f'<html><body>{_CONDITIONAL}<span style="display:none;max-height:0">{preheader}</span>'
        "<h1>Weekly news</h1><p>Read this week's stories on our site.</p>"
        '<p style="color:#999;font-size:10px">Unsubscribe any time.</p>'
        '<img src="https://t.example.com/o.gif" width="1" height="1" alt=""></body></html>'
    )
    return HardNegative("newsletter", preheader, text, html)


def _subject(family: str, rng: random.Random) -> str:
    return f"{family.replace('_', ' ').title()} {rng.randint(1, 999)}"


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(_NAMES),
        name2=rng.choice(_NAMES),
        doc=rng.choice(_DOCS),
        service=rng.choice(_SERVICES),
        day=rng.choice(_DAYS),
        token=base64.urlsafe_b64encode(rng.randbytes(rng.choice((12, 18, 24)))).decode(),
        code=rng.randint(100000, 999999),
    )
