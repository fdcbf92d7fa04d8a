"""Benign mail of the kinds a phrase matcher mistakes for attacks: mailing-list footers,
newsletters, security advisories, quoted technical questions, ordinary requests to send
something, and one-word lines. Composed from parts, like the attack families, so the model
meets these words in ordinary use."""

from __future__ import annotations

import html
import random

from training.benign import HardNegative

_LISTS = ("users", "devel", "announce", "help", "discuss", "security-announce")
_PROJECTS = ("spamassassin", "exim", "debian", "postgresql", "linux-audio", "razor", "zope")
_FOOTERS = (
    "_______________________________________________\n{list} mailing list\n{list}@lists.{proj}.org"
    "\nTo unsubscribe, send a message with 'unsubscribe' to {list}-request@lists.{proj}.org",
    "--\nTo UNSUBSCRIBE, email to {list}-request@lists.{proj}.org with a subject of "
    '"unsubscribe". Trouble? Contact listmaster@lists.{proj}.org',
    "You are receiving this because you subscribed to {list}. Send 'help' to "
    "{list}-request@lists.{proj}.org for instructions, or reply STOP to opt out.",
    "Archives: https://lists.{proj}.org/pipermail/{list}/\nManage your subscription: "
    "https://lists.{proj}.org/mailman/listinfo/{list}",
)
_QUESTIONS = (
    "How can we override an existing switch in the config without rebuilding?",
    "Can I ignore the warning from the linter, or does it matter?",
    "Is there a way to disregard the cached rules and reload them?",
    "What does the 'system' setting do in the new release?",
    "Should I forward port 25 to the new relay, or keep the old one?",
    "Does anyone know how to reset the admin password after an upgrade?",
    "Why does the assistant prompt ask for my API key on first run?",
    "How do I send all the logs to the central server with rsyslog?",
)
_ANSWERS = (
    "Yes, put the setting in local.cf and restart; the defaults are overridden.",
    "You can safely ignore it for now, it is fixed in the next version.",
    "Run the command with --force, then forward the output to the list if it fails.",
    "See the instructions in the README, section 'System requirements'.",
    "Send me the full log off-list and I'll have a look.",
)
_ADVISORIES = (
    "Security advisory {n}: a flaw in the template engine lets a crafted message run commands. "
    "Upgrade to {v} and rotate any API keys stored on affected hosts.",
    "Attackers are sending mails that pretend to come from the helpdesk and ask you to reveal "
    "your password. We will never ask for it. Report such messages to the security team.",
    "Researchers found that AI assistants can be tricked by hidden text in web pages that tells "
    "them to ignore their instructions. Our products now filter such content.",
    "Reminder: do not forward confidential documents to personal addresses. Data leaving the "
    "company must go through the approved file share.",
    "The vulnerability allows an attacker to override system settings remotely. Patches are "
    "available for all supported versions; see the advisory for details.",
)
_REQUESTS = (
    "Can you send me the {doc} by {day}? I need it for the review.",
    "Please forward this to your team and let me know who can attend.",
    "If you have any questions, email me at {who}@{org}.com or call the office.",
    "Reply to this email to confirm your attendance, or let us know if you cannot come.",
    "Please share the slides with everyone who missed the call.",
    "Could you delete the duplicate entries in the shared sheet before {day}?",
    "Kindly send your updated bank details to payroll through the HR portal, not by email.",
    "Please update the contact list with the new phone numbers from the attached file.",
)
_SHORT = ("ignore", "Guidelines", "Instructions", "SYSTEM", "Override", "Assistant", "Prompt")
_NEWS_ITEMS = (
    "Five ways to get more out of your AI assistant at work",
    "Our guide to writing clear instructions for your team",
    "New: system status page and incident history",
    "Reader question: should you ignore the first offer on a house?",
    "How to set up email forwarding rules the safe way",
    "Webinar: data protection for small businesses",
)
_DOCS = ("draft budget", "signed NDA", "travel plan", "slides", "Q2 numbers", "invoice")
_DAYS = ("Friday", "tomorrow noon", "the 21st", "end of next week")


def list_mails(rng: random.Random, count: int) -> list[HardNegative]:
    """``count`` benign mails, each a list post, a newsletter, an advisory or a request."""
    makers = (_list_post, _newsletter, _advisory, _request, _short)
    return [rng.choice(makers)(rng) for _ in range(count)]


def _list_post(rng: random.Random) -> HardNegative:
    name = rng.choice(("Pete", "Marcus", "Justin", "Theo", "Ruth"))
    question = rng.choice(_QUESTIONS)
    text = f"{rng.choice(_ANSWERS)}\n\n"
    if rng.random() < 0.7:
        text += f"On Tue, {name} wrote:\n> {question}\n> Thanks in advance.\n\n"
    else:
        text = f"Hi all,\n\n{question}\n\nThanks,\n{name}\n\n"
    text += _footer(rng)
    return HardNegative("list:post", f"Re: [{rng.choice(_LISTS)}] {question[:40]}", text)


def _newsletter(rng: random.Random) -> HardNegative:
    items = rng.sample(_NEWS_ITEMS, 3)
    text = "\n\n".join([*items, "Click here to read more.", _footer(rng)])
    body = "".join(f"<h2>{html.escape(i)}</h2><p>Read more</p>" for i in items)
    hidden = html.escape(rng.choice((*_SHORT, "Don't miss this week's picks")))
    page = (
        f'<html><body><div style="display:none">{hidden}</div><!-- {hidden} -->{body}'
        '<p style="font-size:10px">Unsubscribe | Reply STOP to opt out</p></body></html>'
    )
    return HardNegative("list:newsletter", f"This week: {items[0]}", text, page)


def _advisory(rng: random.Random) -> HardNegative:
    text = rng.choice(_ADVISORIES).format(n=rng.randint(2001, 2099), v=f"3.{rng.randint(1, 9)}")
    text = f"{text}\n\n{_footer(rng)}" if rng.random() < 0.5 else text
    return HardNegative("list:advisory", "Security advisory", text)


def _request(rng: random.Random) -> HardNegative:
    text = rng.choice(_REQUESTS).format(
        doc=rng.choice(_DOCS), day=rng.choice(_DAYS), who=rng.choice(("jo", "sam")), org="corp"
    )
    return HardNegative("list:request", rng.choice(("Quick one", "Request", "Next steps")), text)


def _short(rng: random.Random) -> HardNegative:
    word = rng.choice(_SHORT)
    text = rng.choice((word, f"{word}\n\nSee attached.", f"Subject line says it all: {word}"))
    return HardNegative("list:short", word, text)


def _footer(rng: random.Random) -> str:
    return rng.choice(_FOOTERS).format(list=rng.choice(_LISTS), proj=rng.choice(_PROJECTS))
