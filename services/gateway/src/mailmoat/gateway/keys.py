"""API keys and scopes: random secrets shown once, stored hashed, looked up by prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SEND_SCOPE = "write:mail.send"
SCOPES = frozenset(
    {
        "read:mail",
        "read:mail.raw",
        "write:inbox",
        "write:allowlist",
        "write:webhooks",
        "read:audit",
        "approve:mail",
        "admin:workspace",
        SEND_SCOPE,
    }
)
PERSON_SCOPES = frozenset({"approve:mail", "admin:workspace", "write:allowlist", "write:inbox"})
"""A person's powers: approve and release mail, reinstate senders, the kill switch, keys, the
allowlist, inboxes and their levels. A key holding any of them never holds the send scope, and a
key holding the send scope (an agent's) never holds any of them: separation of duties."""

# Presets never include the send scope: sending is a separate, literal opt-in.
PRESETS = {
    "read-only": ("read:mail", "read:audit"),
    "full-access": tuple(sorted(SCOPES - {SEND_SCOPE})),
}
TOKEN_PREFIX = "mm"  # noqa: S105  (public part of the key format)


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: ``token`` is shown once, the rest is stored."""

    token: str
    prefix: str
    secret_hash: str


def generate_key() -> NewKey:
    """A new random key, ``mm_<prefix>_<secret>``."""
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(token=token, prefix=prefix, secret_hash=hash_token(token))


def hash_token(token: str) -> str:
    """SHA-256 of the whole token (the secret has 256 bits of entropy; no slow hash needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    return parts[1]


def token_matches(token: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), secret_hash)


def expand_scopes(requested: list[str]) -> list[str]:
    """Expand presets into literal scopes; unknown names raise ``ValueError``."""
    scopes: set[str] = set()
    for name in requested:
        if name in PRESETS:
            scopes.update(PRESETS[name])
        elif name in SCOPES:
            scopes.add(name)
        else:
            raise ValueError(f"unknown scope or preset {name!r}")
    return sorted(scopes)


def mixes_duties(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The person's scopes held beside the send scope (empty when the key keeps to one side)."""
    return sorted(PERSON_SCOPES.intersection(scopes)) if SEND_SCOPE in scopes else []


def grants(scopes: list[str], required: str) -> bool:
    """Literal match only: no wildcard, no preset, can ever grant a scope it does not name."""
    return required in scopes
