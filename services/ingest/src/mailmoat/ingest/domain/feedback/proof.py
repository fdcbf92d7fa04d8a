"""Proof that a report is about mail we sent, when it did not come to the send's bounce address:
the reported message's header carries our DKIM signature over its one Message-ID, checked
against our own public key (never DNS).

Only the signed header fields are checked, not the body hash: reports often return the headers
alone (text/rfc822-headers) or a cut body, and the header signature already covers ``bh=`` and
the Message-ID, which is what names the send. Dispatch signs with relaxed header
canonicalization, so re-folding by the reporter does not matter.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import Message

import dkim

from mailmoat.ingest.domain.feedback import MAX_REPORT_BYTES, mime

MAX_SIGNATURES = 5
MIN_RSA_BITS = 1024
_LOG = logging.getLogger("mailmoat.ingest.feedback.dkimpy")
_LOG.setLevel(logging.CRITICAL)  # reports carry all sorts of signatures; a miss is no error


@dataclass(frozen=True)
class OwnKey:
    """The public half of one of our signing keys, as its DKIM TXT record would publish it."""

    domain: str
    selector: str
    record: bytes


def signed_message_id(raw: bytes, keys: Sequence[OwnKey]) -> str | None:
    """The reported message's Message-ID, when one of ``keys`` signed it; otherwise ``None``
    (never raises: damaged mail proves nothing)."""
    if not keys:
        return None
    try:
        msg = email.message_from_bytes(raw[:MAX_REPORT_BYTES], policy=policy.compat32)
        return _signed_message_id(msg, keys)
    except Exception:
        return None


def _signed_message_id(msg: Message, keys: Sequence[OwnKey]) -> str | None:
    original = mime.original_headers(msg)
    if original is None or len(original.get_all("Message-ID", [])) != 1:
        return None  # two Message-IDs: the signed one need not be the one we would read
    block = _header_block(original)
    signatures = min(len(original.get_all("DKIM-Signature", [])), MAX_SIGNATURES)
    if any(_verifies(block, idx, keys) for idx in range(signatures)):
        return mime.header(original, "Message-ID")
    return None


def _header_block(original: Message) -> bytes:
    """The header fields again, folds as CRLF, with an empty body after them."""
    lines = []
    for name, value in original.raw_items():
        text = str(value).replace("\r\n", "\n").replace("\n", "\r\n")
        lines.append(f"{name}: {text}\r\n".encode("utf-8", "surrogateescape"))
    return b"".join(lines) + b"\r\n"


def _verifies(block: bytes, idx: int, keys: Sequence[OwnKey]) -> bool:
    try:
        verifier = dkim.DKIM(block, logger=_LOG, minkey=MIN_RSA_BITS)
        prep = verifier.verify_headerprep(idx)
        if not prep:
            return False
        sig, include_headers, found = prep
        ours = _ours(sig, keys)
        if ours is None or b"message-id" not in include_headers:
            return False
        headers_only = {tag: value for tag, value in sig.items() if tag != b"bh"}
        return bool(verifier.verify_sig(headers_only, include_headers, found[idx], ours.lookup))
    except Exception:  # hostile input trips dkimpy in many ways; none of them is a proof
        return False


def _ours(sig: dict[bytes, bytes], keys: Sequence[OwnKey]) -> _Lookup | None:
    domain = sig.get(b"d", b"").decode("ascii", "replace").lower()
    selector = sig.get(b"s", b"").decode("ascii", "replace")
    for key in keys:
        if key.domain == domain and key.selector == selector:
            return _Lookup(key)
    return None


@dataclass(frozen=True)
class _Lookup:
    """dkimpy's DNS function, answering only with our own record."""

    key: OwnKey

    def lookup(self, name: bytes, timeout: float = 5) -> bytes | None:
        wanted = f"{self.key.selector}._domainkey.{self.key.domain}.".encode()
        return self.key.record if name.lower() == wanted.lower() else None
