"""DKIM signing of outbound mail with the sending domain's key (rsa-sha256 or ed25519-sha256).

The signature is made with ``cryptography`` (OpenSSL): dkimpy's pure-Python RSA costs several
milliseconds per send. What gets signed is exactly what dkimpy's ``dkim.sign`` signs with these
settings (relaxed header and simple body canonicalisation, the same tags in the same order, the
same folding of the DKIM-Signature field), so the output is byte for byte the same.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

Algorithm = Literal["rsa-sha256", "ed25519-sha256"]
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

# Headers the signature covers when present; From always is. Listing To, Subject and the
# threading headers keeps a relay from rewriting what the recipient reads.
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "auto-submitted",
)

_FIELD = b"DKIM-Signature"
_LINE_WIDTH = 72
"""Folded lines stay within 72 columns; the first also holds the field name."""
_LINE_BREAK = re.compile(rb"\r?\n")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_FIELD_NAME = re.compile(rb"([\x21-\x7e]+?):")
_BLANKS = re.compile(rb"[\t ]+")
_PLACEHOLDER = b"0" * 60
"""Stands in for b= while folding, so that b= starts a line of its own in both the hashed and
the sent field and the tags before it fold the same way in each."""


class DkimKeyError(ValueError):
    """A configured key cannot be used for its algorithm."""


class DkimMessageError(ValueError):
    """The message's header block cannot be signed (malformed, or without a From field)."""


@dataclass(frozen=True)
class DkimKey:
    """A domain's signing key, loaded once and reused for every send from that domain."""

    domain: str
    selector: str
    algorithm: Algorithm
    signer: PrivateKey = field(repr=False, compare=False)

    @classmethod
    def from_pem(cls, domain: str, selector: str, pem: bytes) -> DkimKey:
        """Load a PEM private key (PKCS#1 or PKCS#8); its type decides the algorithm. RSA keys
        under 1024 bits are refused, as verifiers ignore them (RFC 8301)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise DkimKeyError(f"{domain}: not an unencrypted PEM private key") from exc
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 1024:
                raise DkimKeyError(f"{domain}: RSA keys under 1024 bits are not accepted")
            return cls(domain.lower(), selector, "rsa-sha256", key)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(domain.lower(), selector, "ed25519-sha256", key)
        raise DkimKeyError(f"{domain}: only RSA and Ed25519 keys can sign DKIM")

    @classmethod
    def from_file(cls, domain: str, selector: str, path: Path) -> DkimKey:
        return cls.from_pem(domain, selector, path.read_bytes())

    @property
    def private_key(self) -> bytes:
        """The key as dkimpy's ``dkim.sign`` takes it: PKCS#1 PEM for RSA, the base64 seed for
        Ed25519. For callers that still sign through dkimpy, such as tests."""
        if isinstance(self.signer, rsa.RSAPrivateKey):
            return self.signer.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        seed = self.signer.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(seed)

    def sign(self, data: bytes) -> bytes:
        """The b= signature over the canonical header data: RSASSA-PKCS1-v1_5 with SHA-256
        (RFC 6376), or Ed25519 over the data's SHA-256 digest (RFC 8463)."""
        if isinstance(self.signer, rsa.RSAPrivateKey):
            return self.signer.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.signer.sign(hashlib.sha256(data).digest())


def dkim_sign(message: bytes, key: DkimKey, *, timestamp: int | None = None) -> bytes:
    """``message`` (CRLF line endings) with a DKIM-Signature header prepended, signed at
    ``timestamp`` (t=, seconds since the epoch; now when not given)."""
    fields, body = _split(message)
    names = [name.lower() for name, _ in fields]
    present = set(names)
    signed = [name for name in (h.encode() for h in SIGNED_HEADERS) if name in present]
    if b"from" not in present:
        raise DkimMessageError("a message without a From field cannot be signed")
    when = int(time.time()) if timestamp is None else timestamp
    tags = (
        (b"v", b"1"),
        (b"a", key.algorithm.encode()),
        (b"c", b"relaxed/simple"),
        (b"d", key.domain.encode()),
        (b"i", b"@" + key.domain.encode()),
        (b"q", b"dns/txt"),
        (b"s", key.selector.encode()),
        (b"t", str(when).encode()),
        (b"h", b" : ".join(signed)),
        (b"bh", base64.b64encode(hashlib.sha256(_simple_body(body)).digest())),
    )
    head = b"; ".join(tag + b"=" + value for tag, value in tags) + b"; b="
    unsigned = _fold(head + _PLACEHOLDER)
    unsigned = unsigned[: unsigned.rindex(b"b=") + 2]
    data = b"".join(
        name + b":" + _relaxed_value(fields[index][1]) + b"\r\n"
        for name, index in _bottom_up(names, signed)
    )
    data += _FIELD.lower() + b":" + _relaxed_value(b" " + unsigned)
    value = _fold(head + base64.b64encode(key.sign(data)) + b"\r\n")
    return _FIELD + b": " + value + message


def _split(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields as (name, raw value with its line breaks) and the body with CRLF line
    ends. Only the header block is split into lines; a bare LF counts as a line end, and an
    mbox "From " line is skipped."""
    if message.startswith((b"\n", b"\r\n")):
        head, rest = b"", message[message.index(b"\n") + 1 :]
    elif (blank := _BLANK_LINE.search(message)) is not None:
        head, rest = message[: blank.start() + 1], message[blank.end() :]
    else:
        head, rest = message, b""
    lines = _LINE_BREAK.split(head) if head else []
    if lines and not lines[-1]:
        lines.pop()
    fields: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise DkimMessageError("the header block starts with a continuation line")
            name, value = fields[-1]
            fields[-1] = (name, value + line + b"\r\n")
        elif (match := _FIELD_NAME.match(line)) is not None:
            fields.append((match.group(1), line[match.end() :] + b"\r\n"))
        elif not line.startswith(b"From "):
            raise DkimMessageError(f"not a header field: {line[:60]!r}")
    return fields, _LINE_BREAK.sub(b"\r\n", rest)


def _bottom_up(names: list[bytes], signed: list[bytes]) -> list[tuple[bytes, int]]:
    """Which field each h= entry covers: a name's first entry takes its bottom-most instance,
    a repeat of the name the next one up (RFC 6376 section 5.4.2)."""
    chosen: list[tuple[bytes, int]] = []
    below: dict[bytes, int] = {}
    for name in signed:
        index = below.get(name, len(names))
        while index > 0:
            index -= 1
            if names[index] == name:
                chosen.append((name, index))
                break
        below[name] = index
    return chosen


def _relaxed_value(value: bytes) -> bytes:
    """A field value in relaxed canonical form (RFC 6376 section 3.4.2): unfolded, runs of
    blanks made one space, no whitespace at either end."""
    return _BLANKS.sub(b" ", _LINE_BREAK.sub(b"", value)).strip()


def _simple_body(body: bytes) -> bytes:
    """The body in simple canonical form (RFC 6376 section 3.4.3): empty lines at the end
    dropped, ending in exactly one CRLF (so an empty body is CRLF)."""
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n"


def _fold(value: bytes) -> bytes:
    """The DKIM-Signature value broken into lines of at most 72 columns, the first counting the
    field name: at the last space in reach, or mid-token where there is none. A trailing CRLF
    counts towards the last line's length, as in dkimpy."""
    width = _LINE_WIDTH - len(_FIELD)
    if len(value) <= width or (value.endswith(b"\r\n") and len(value) <= width + 2):
        return value
    lines: list[bytes] = []
    while len(value) > width:
        space = value.rfind(b" ", 0, width)
        if space == -1:
            lines.append(value[:width])
            value = value[width:]
        else:
            lines.append(value[:space])
            value = value[space + 1 :]
        width = _LINE_WIDTH - 1
    lines.append(value)
    return b"\r\n ".join(lines)
