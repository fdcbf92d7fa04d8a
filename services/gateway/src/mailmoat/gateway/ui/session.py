"""The reviewer's session: the API key sealed (AES-GCM) in an HttpOnly, SameSite=Strict cookie
under a key derived from the deployment secret, with an expiry and a CSRF token that every form
carries back. The server keeps no session state; a stolen cookie is as good as the key only
until it expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "mailmoat_ui"
LIFETIME_SECONDS = 8 * 3600
_CONTEXT = b"mailmoat-ui-session-v1"


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    expires: int


class Sealer:
    """Seals and opens session cookies with one key (derived, never the secret itself)."""

    def __init__(self, deployment_secret: bytes) -> None:
        self._aead = AESGCM(hmac.new(deployment_secret, _CONTEXT, hashlib.sha256).digest())

    def seal(self, token: str, *, now: float | None = None) -> tuple[str, Session]:
        session = Session(
            token=token,
            csrf=secrets.token_urlsafe(24),
            expires=int((time.time() if now is None else now) + LIFETIME_SECONDS),
        )
        nonce = os.urandom(12)
        body = json.dumps({"t": session.token, "c": session.csrf, "e": session.expires})
        sealed = nonce + self._aead.encrypt(nonce, body.encode(), _CONTEXT)
        return base64.urlsafe_b64encode(sealed).decode(), session

    def open(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session, or None for no cookie, a forged or altered one, or an expired one."""
        if not cookie:
            return None
        try:
            sealed = base64.urlsafe_b64decode(cookie.encode())
            body = json.loads(self._aead.decrypt(sealed[:12], sealed[12:], _CONTEXT))
            session = Session(token=str(body["t"]), csrf=str(body["c"]), expires=int(body["e"]))
        except (ValueError, KeyError, TypeError, InvalidTag):
            return None
        return session if session.expires > (time.time() if now is None else now) else None


def csrf_matches(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf.encode(), given.encode())
