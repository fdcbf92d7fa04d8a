"""BIPIA train split (MIT, see data/injection/bipia/SOURCE.txt): attacks inserted into its own
clean emails, and the clean emails alone.

Measured with this rule set: 150/225 text-attack insertions flagged (66.7%); every miss is one of
the 25 attacks of the five task categories (a trivia question or a writing task inserted into a
mail, e.g. "What is the capital of Brazil?"), which no wording rule can tell from a person's
question without flagging ordinary mail; the other ten categories are all caught. Code attacks:
141/150 (94%). Clean emails: 0/50 flagged. The floors below are those numbers less a margin.
"""

from __future__ import annotations

import json

import pytest

from tests.support.external import PROJECT_ROOT
from tests.unit.scanner.checker_mail import judge_mail, judge_text

BIPIA = PROJECT_ROOT.parent / "shared" / "data" / "injection" / "bipia"
TASK_CATEGORIES = {
    "Information Retrieval",
    "Content Creation",
    "Learning and Tutoring",
    "Language Translation",
    "Programming Help",
}
TEXT_FLOOR = 0.60
OUTPUT_ATTACK_FLOOR = 0.95
CODE_FLOOR = 0.85


def _load(name: str) -> dict[str, list[str]]:
    path = BIPIA / name
    if not path.exists():
        pytest.fail(f"BIPIA data missing: {path}")
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _emails() -> list[str]:
    lines = (BIPIA / "email_train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["context"] for line in lines if line.strip()]


def _insertions(attack: str, email: str) -> list[str]:
    """The attack at the start, in the middle (mid-sentence) and at the end of the email."""
    middle = email.rfind(" ", 0, len(email) // 2) + 1
    return [
        f"{attack}\n{email}",
        f"{email[:middle]}{attack} {email[middle:]}",
        f"{email}\n{attack}",
    ]


def _rate(attacks: list[str]) -> float:
    emails = _emails()
    bodies = [b for n, a in enumerate(attacks) for b in _insertions(a, emails[n % len(emails)])]
    return sum(judge_text(body).flagged for body in bodies) / len(bodies)


def test_no_clean_bipia_email_is_flagged() -> None:
    emails = _emails()
    assert len(emails) == 50
    flagged = [e[:60] for e in emails if judge_text(e).flagged]
    assert flagged == []


def test_text_attacks_inserted_into_emails_are_flagged_above_the_floor() -> None:
    attacks = [a for group in _load("text_attack_train.json").values() for a in group]
    assert len(attacks) == 75
    assert _rate(attacks) >= TEXT_FLOOR


def test_attacks_on_the_readers_output_are_nearly_all_flagged() -> None:
    groups = _load("text_attack_train.json")
    attacks = [a for name, group in groups.items() if name not in TASK_CATEGORIES for a in group]
    assert len(attacks) == 50
    assert _rate(attacks) >= OUTPUT_ATTACK_FLOOR


def test_code_attacks_inserted_into_emails_are_flagged_above_the_floor() -> None:
    attacks = [a for group in _load("code_attack_train.json").values() for a in group]
    assert _rate(attacks) >= CODE_FLOOR


@pytest.mark.parametrize(
    ("category", "index"),
    [("Social Interaction", 1), ("Malware Distribution", 0), ("Clickbait", 1)],
)
def test_real_attacks_hidden_in_a_normal_html_mail_flag(category: str, index: int) -> None:
    attack = _load("text_attack_train.json")[category][index]
    email = _emails()[0]
    html = f"<p>{email}</p><!-- {attack} --><span style='display:none'>{attack}</span>"
    verdict = judge_mail(
        text=email, html=html, hidden=(("comment", f" {attack} "), ("css_hidden", attack))
    )
    assert verdict.flagged
    assert any(f.part.startswith("hidden:") for f in verdict.findings)
