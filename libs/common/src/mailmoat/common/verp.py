"""The bounce address of a send: ``bounces+<outbound id>.<mac>@<mail domain>`` (VERP with a MAC).

Dispatch gives it to the relay as the envelope sender (MAIL FROM), so bounces come back to it;
ingest takes a report sent there as being about that send only when the MAC verifies. The MAC
is HMAC-SHA256 over the outbound id, cut to 80 bits and written in lower-case base32 (16
characters: the local part stays at 61 octets, under the 64 RFC 5321 allows), keyed by a key
derived from the deployment secret for this use alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass

LOCAL_BASE = "bounces"
MAC_BYTES = 10
"""80 bits: 16 base32 characters, with no padding."""
_PURPOSE = b"mailmoat-verp"


@dataclass(frozen=True)
class VerpKey:
    """Signs and verifies bounce addresses; ``derive`` it from the deployment secret."""

    key: bytes
    domain: str

    @classmethod
    def derive(cls, secret: str, domain: str) -> VerpKey:
        """The VERP key for ``domain``: HMAC(secret, purpose), never the secret itself."""
        key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
        return cls(key=key, domain=domain.lower())

    def mac(self, outbound_id: uuid.UUID) -> str:
        digest = hmac.new(self.key, str(outbound_id).encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:MAC_BYTES]).decode().lower()

    def address(self, outbound_id: uuid.UUID) -> str:
        """The envelope sender for the send ``outbound_id``."""
        return f"{LOCAL_BASE}+{outbound_id}.{self.mac(outbound_id)}@{self.domain}"

    def is_bounce_address(self, address: str) -> bool:
        """Whether ``address`` is on the bounce address's base, whatever its tag says."""
        local, domain = _split(address)
        return domain == self.domain and local.partition("+")[0] == LOCAL_BASE

    def verify(self, address: str) -> uuid.UUID | None:
        """The outbound id ``address`` names, when its MAC is ours; otherwise ``None``."""
        local, domain = _split(address)
        base, plus, tag = local.partition("+")
        if domain != self.domain or base != LOCAL_BASE or not plus:
            return None
        named, _, mac = tag.partition(".")
        try:
            outbound_id = uuid.UUID(named)
        except ValueError:
            return None
        if str(outbound_id) != named:
            return None  # one spelling only: braces, a URN or no hyphens are not ours
        expected = self.mac(outbound_id).encode()
        return outbound_id if hmac.compare_digest(mac.encode(), expected) else None


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return local, domain
