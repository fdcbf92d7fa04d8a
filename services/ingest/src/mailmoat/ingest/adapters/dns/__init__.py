"""DNS for sender authentication: one small protocol, resolvers injected from settings."""

from __future__ import annotations

from typing import Protocol


class DnsTempError(Exception):
    """The answer could not be had now (timeout, SERVFAIL): a temporary error, not a 'no'."""


class Resolver(Protocol):
    """Synchronous DNS lookups (authentication runs in a worker thread).

    ``lookup`` returns the answers in presentation form: TXT records with their character strings
    joined, A/AAAA addresses, MX as ``"preference exchange"``, PTR names without the final dot.
    An empty tuple means NXDOMAIN or no data; a failure to get an answer raises DnsTempError.
    """

    def lookup(self, name: str, rdtype: str) -> tuple[str, ...]: ...

    def exists(self, name: str) -> bool:
        """Whether the name exists in DNS at all (for DMARC ``np=``); raises DnsTempError."""
        ...


class TimedResolver(Resolver, Protocol):
    """A Resolver whose single query can be given less time than its own per-query limit.

    ``lifetime`` caps one query's total time, retries included; ``None`` keeps the resolver's
    own limit. A per-mail DNS budget passes its remaining time here, so no query outlives it.
    """

    def lookup(
        self, name: str, rdtype: str, *, lifetime: float | None = None
    ) -> tuple[str, ...]: ...

    def exists(self, name: str, *, lifetime: float | None = None) -> bool: ...
