"""The outbound data-leak checks: each kind found in the forms it is written in, nothing found
in the numbers and words of ordinary business mail, and the secret itself never repeated."""

from __future__ import annotations

from typing import get_args

import pytest

from mailmoat.gateway.routes.inboxes import LeakKind
from mailmoat.gateway.ui.pages import LEAK_NAMES
from mailmoat.policy.domain.leaks import find_leaks, luhn
from mailmoat.policy.domain.risk import LEAK_KINDS

FOUND = [
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "private_key"),
    ("-----BEGIN EC PRIVATE KEY-----", "private_key"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "private_key"),
    ("key AKIAIOSFODNN7EXAMPLE", "api_key"),
    ("ghp_" + "A1b2" * 9, "api_key"),
    ("glpat-" + "x" * 20, "api_key"),
    ("xoxb-123456789012-abcdefghij", "api_key"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "api_key"),
    ("AIza" + "SyA-1234567890abcdefghijklmnopqrstu", "api_key"),
    ("sk-ant-api03-" + "Z" * 40, "api_key"),
    ("sk-proj-" + "q" * 40, "api_key"),
    ("client_secret = 'f3a9b1c7d2e8a4b6'", "api_key"),
    ("Card: 4111 1111 1111 1111, exp 12/28", "card_number"),
    ("5500-0000-0000-0004", "card_number"),
    ("amex 3782 822463 10005", "card_number"),
    ("Pay DE89 3704 0044 0532 0130 00 today", "iban"),
    ("IBAN GB82WEST12345698765432", "iban"),
    ("FR14 2004 1010 0505 0001 3M02 606", "iban"),
    ("SSN: 123-45-6789", "national_id"),
    ("NI number AB 12 34 56 C", "national_id"),
    ("DNI 12345678Z", "national_id"),
    ("NIE X1234567L", "national_id"),
    ("NIR 1 84 12 75 115 468 74", "national_id"),
    ("The password is hunter2!", "password"),
    ("password: Tr0ub4dor&3", "password"),
    ("Your new PIN is 4821", "password"),
    ('pwd="c0rrect-h0rse"', "password"),
    ("Das Passwort ist geheim123", "password"),
    ("le mot de passe est soleil42", "password"),
]

ORDINARY = [
    "Lunch on Friday? See you at 12:30 in room 4.",
    "Reset your password from the settings page.",
    "Your password is required. The password is incorrect; passwords are case sensitive.",
    "Order 4111 2222 3333 4444 ships on 2026-12-05; tracking 1Z999AA10123456784.",
    "Call +1 415 555 0100 or +44 20 7946 0958, fax 0049 30 1234567.",
    "Invoice INV-2026-0001-2345 for EUR 1,234.56, reference DE12345678.",
    "ISBN 978-3-16-148410-0, ticket 000-12-3456, part 666-12-3456.",
    "The meeting id is 812 3456 7890 and the passcode is below.",
    "Token bucket sizes: token = 5 per second.",
    "A private key should never be mailed; ask for the public one.",
]


@pytest.mark.parametrize(("text", "kind"), FOUND)
def test_each_kind_is_found(text: str, kind: str) -> None:
    assert [leak.kind for leak in find_leaks(text)] == [kind]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_mail_has_none(text: str) -> None:
    assert find_leaks(text) == ()


def test_a_finding_never_repeats_the_secret() -> None:
    for secret, _ in FOUND:
        values = [word for word in secret.split() if any(c.isdigit() for c in word)]
        value = max(values, key=len) if values else secret
        for leak in find_leaks(secret):
            assert value not in leak.detail, (leak, secret)
    [card] = [leak for leak in find_leaks("4111 1111 1111 1111") if leak.kind == "card_number"]
    assert card.detail == "a card number ending 1111"


def test_luhn() -> None:
    assert luhn("79927398713")
    assert not luhn("79927398710")
    assert not any(find_leaks("4111 1111 1111 1112"))


def test_the_api_names_the_kinds_policy_finds() -> None:
    assert get_args(LeakKind) == LEAK_KINDS
    assert set(LEAK_NAMES) == set(LEAK_KINDS)  # the review UI names each, and no other
