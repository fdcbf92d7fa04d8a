"""Key lookups for DKIM and ARC: our Resolver behind dkimpy's ``dnsfunc`` callback."""

from __future__ import annotations

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from mailmoat.ingest.adapters.dns import DnsTempError, Resolver


class KeyLookup:
    """A ``dnsfunc`` for dkimpy that remembers what DNS said.

    dkimpy turns both a DNS timeout and a missing key into a plain ``False``; the verifier needs
    to tell them apart (temperror, permerror, fail), so the callback records the last answer.
    """

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self.name = ""
        self.record: bytes | None = None
        self.temp_error = ""
        # An ARC chain asks for the same key once per seal and signature: ask DNS once.
        self._answers: dict[str, bytes | None] = {}

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        """Return the key record for ``selector._domainkey.domain.``, or ``None`` if none."""
        self.name = name.decode("utf-8", errors="replace").rstrip(".")
        self.record = None
        if self.name in self._answers:
            self.record = self._answers[self.name]
            return self.record
        try:
            records = self._resolver.lookup(self.name, "TXT")
        except DnsTempError as exc:
            self.temp_error = f"temporary DNS error for {self.name}: {str(exc) or 'no answer'}"
            raise dkim.DnsTimeoutError(self.temp_error) from exc
        # RFC 6376 3.6.2.2 leaves several key records undefined; the first one is used.
        self.record = records[0].encode("utf-8") if records else None
        self._answers[self.name] = self.record
        return self.record

    def key_problem(self) -> str:
        """Why the last key cannot be used (missing, revoked, unparsable); empty if it can."""
        if self.record is None:
            return f"no key record at {self.name}"
        try:
            dkim.evaluate_pk(self.name, self.record)
        except Exception as exc:  # dkimpy raises several unrelated types for a bad record
            return f"unusable key at {self.name}: {exc}"
        return ""

    def hash_refused(self) -> str:
        """Why the key's ``h=`` list (RFC 6376 3.6.1) forbids sha256; empty when it allows it."""
        try:
            allowed = parse_tag_value(self.record or b"").get(b"h")
        except InvalidTagValueList:
            return ""
        if allowed is None or b"sha256" in allowed.lower().replace(b" ", b"").split(b":"):
            return ""
        return f"key at {self.name} does not allow sha256 (h={allowed.decode(errors='replace')})"
