"""Optional SMTP AUTH (PLAIN/LOGIN, only after STARTTLS) against scrypt-hashed passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$<salt>$<hash>`` (base64), the form ``smtp_auth_users`` expects."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    encode = base64.b64encode
    return f"scrypt${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a ``hash_password`` value."""
    scheme, _, rest = stored.partition("$")
    salt_b64, _, digest_b64 = rest.partition("$")
    if scheme != "scrypt" or not digest_b64:
        return False
    salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    actual = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return hmac.compare_digest(actual, expected)


class PasswordAuthenticator:
    """aiosmtpd authenticator: the session's ``auth_data`` becomes the user name on success."""

    def __init__(self, users: Mapping[str, SecretStr]) -> None:
        self._users = {name: secret.get_secret_value() for name, secret in users.items()}

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        stored = self._users.get(user)
        if stored is None or not verify_password(
            auth_data.password.decode("utf-8", "replace"), stored
        ):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user)
