"""Outbound data-leak checks: what an agent tricked into reading secrets would mail out.

Each finding names its kind and never repeats the secret (reviewers, the audit log and the agent
read the reasons): a card shows only its last four digits, an IBAN its country and last four.

- ``private_key``: a PEM private key block (RSA, EC, DSA, OpenSSH, PKCS#8, PGP).
- ``api_key``: a token of a known format (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI,
  Anthropic, Twilio, SendGrid, npm, PyPI), or a JSON web token.
- ``card_number``: 13 to 19 digits (spaces or dashes between groups) of a known card network
  that pass the Luhn check.
- ``iban``: an IBAN of its country's length whose check digits hold (ISO 13616, mod 97).
- ``national_id``: a US Social Security number (written ``123-45-6789``, no number the SSA
  never issues), a UK National Insurance number, a Spanish DNI or NIE (its check letter), a
  French social security number (its key).
- ``password``: a value given for a password: "password: x", "the password is x", "pwd = x"
  (and the same in German, French, Spanish and Dutch), a value of four characters or more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

KINDS = ("private_key", "api_key", "card_number", "iban", "national_id", "password")


@dataclass(frozen=True)
class Leak:
    """One finding: its kind (a stable code) and what was seen, without the secret."""

    kind: str
    detail: str


@lru_cache(maxsize=4)
def find_leaks(text: str) -> tuple[Leak, ...]:
    """Every kind of secret in ``text``, the first finding of each, in the order above.

    Remembered for the last few texts: the risk score and, where an inbox refuses leaks, the
    ``data_leaks`` rule both ask about the same draft, up to a megabyte of it."""
    found = []
    for check in _CHECKS:
        leak = next(check(text), None)
        if leak is not None:
            found.append(leak)
    return tuple(found)


_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")


def _private_keys(text: str) -> Iterator[Leak]:
    for _ in _PRIVATE_KEY.finditer(text):
        yield Leak("private_key", "a private key block")


_API_KEYS = (
    ("an AWS access key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("a Stripe key", r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("an Anthropic API key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    ("an OpenAI API key", r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}"),
    ("a Twilio key", r"\bSK[0-9a-f]{32}\b"),
    ("a SendGrid key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
    ("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("a PyPI token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
    ("a JSON web token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    (
        "a credential",
        r"(?i)\b(?:api[_ -]?key|secret|client[_ -]?secret|access[_ -]?token|auth[_ -]?token"
        r"|token)\s*[:=]\s*[\"']?[A-Za-z0-9_./+=-]{12,}",
    ),
)
_API_KEY = [(name, re.compile(pattern)) for name, pattern in _API_KEYS]


def _api_keys(text: str) -> Iterator[Leak]:
    for name, pattern in _API_KEY:
        if pattern.search(text):
            yield Leak("api_key", name)


# Digits in groups: 4-4-4-4, 4-6-5 (Amex) or one run; a longer run of digits is not a card.
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|22)|35|30[0-5]|36|38)")


def _cards(text: str) -> Iterator[Leak]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn(digits):
            yield Leak("card_number", f"a card number ending {digits[-4:]}")


def luhn(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check (ISO/IEC 7812)."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


# ISO 13616 lengths of the IBANs of SEPA and other common countries.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "UA": 29,
}  # fmt: skip
_IBAN = re.compile(r"\b([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){11,30})\b")


def _ibans(text: str) -> Iterator[Leak]:
    for match in _IBAN.finditer(text.upper()):
        country, check, rest = match.group(1), match.group(2), match.group(3).replace(" ", "")
        length = _IBAN_LENGTHS.get(country)
        if length is None or len(rest) < length - 4:
            continue
        account = rest[: length - 4]
        if _mod97(account + country + check) == 1:
            yield Leak("iban", f"an IBAN ({country}) ending {account[-4:]}")


def _mod97(value: str) -> int:
    return int("".join(str(int(c, 36)) for c in value)) % 97


_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
_NINO = re.compile(
    r"\b(?![DFIQUV])[A-Z](?![DFIOQUV])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE
)
_NINO_NEVER = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
_DNI = re.compile(r"\b([XYZ]?)(\d{7,8})-?([A-Z])\b", re.IGNORECASE)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_NIR = re.compile(
    r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}\b", re.IGNORECASE
)


def _national_ids(text: str) -> Iterator[Leak]:
    for match in _SSN.finditer(text):
        area, group, serial = match.groups()
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            yield Leak("national_id", "a US Social Security number")
    for match in _NINO.finditer(text):
        if match.group()[:2].upper() not in _NINO_NEVER:
            yield Leak("national_id", "a UK National Insurance number")
    for match in _DNI.finditer(text):
        prefix, number, letter = match.group(1).upper(), match.group(2), match.group(3).upper()
        if len(prefix + number) != 8:
            continue
        value = int(str("XYZ".index(prefix)) + number if prefix else number)
        if _DNI_LETTERS[value % 23] == letter:
            yield Leak("national_id", "a Spanish DNI or NIE")
    for match in _NIR.finditer(text):
        if _nir_valid(re.sub(r"\s", "", match.group())):
            yield Leak("national_id", "a French social security number")


def _nir_valid(nir: str) -> bool:
    if len(nir) != 15:
        return False
    body, key = nir[:13].upper(), int(nir[13:])
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97 == key


_PASSWORD = re.compile(
    r"\b(?:password|passwort|passphrase|passcode|passwd|pwd|pw|pin|kennwort|wachtwoord"
    r"|mot de passe|contrase(?:ñ|n)a|clave)\b"
    r"\s*(?::|=|->|\b(?:is|was|will be|is now|is set to|ist|est|es)\b:?)"
    r"\s*[\"'\u201c\u2018\u00ab]?(?P<value>[^\s\"'\u201d\u2019\u00bb<]{4,})",
    re.IGNORECASE,
)
# What follows "password is" in ordinary prose, never a password itself.
_PROSE = frozenset(
    (
        "reset", "change", "changed", "expired", "expires", "expiring", "expiry", "required",
        "incorrect", "invalid", "wrong", "correct", "missing", "weak", "strong", "protected",
        "saved", "stored", "encrypted", "hashed", "below", "above", "here", "there", "that",
        "this", "your", "their", "the", "same", "not", "still", "also", "being", "never",
        "always", "case", "sensitive",
    )
)  # fmt: skip


def _passwords(text: str) -> Iterator[Leak]:
    for match in _PASSWORD.finditer(text):
        value = match.group("value").rstrip(".,;:!?)")
        if len(value) >= 4 and value.lower() not in _PROSE:
            yield Leak("password", "a password given in the text")


_CHECKS: tuple[Callable[[str], Iterator[Leak]], ...] = (
    _private_keys,
    _api_keys,
    _cards,
    _ibans,
    _national_ids,
    _passwords,
)
