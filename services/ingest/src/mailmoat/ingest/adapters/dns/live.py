"""Production DNS: a dnspython stub resolver with a per-query time limit, shortened on request."""

from __future__ import annotations

from collections.abc import Sequence

import dns.exception
import dns.name
import dns.resolver

from mailmoat.ingest.adapters.dns import DnsTempError
from mailmoat.ingest.adapters.dns.static import presentation


class LiveResolver:
    """A TimedResolver backed by dnspython; every query gives up after ``timeout_seconds``.

    With ``nameservers`` empty the system configuration (``/etc/resolv.conf``) is used; ``port``
    applies to every nameserver (a local resolver on another port, tests).
    """

    def __init__(
        self, *, timeout_seconds: float, nameservers: Sequence[str] = (), port: int = 53
    ) -> None:
        self._resolver = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            self._resolver.nameservers = list(nameservers)
        self._resolver.port = port
        self._resolver.timeout = timeout_seconds
        self._resolver.lifetime = timeout_seconds
        self._timeout = timeout_seconds

    def lookup(self, name: str, rdtype: str, *, lifetime: float | None = None) -> tuple[str, ...]:
        """Answers in presentation form; () for NXDOMAIN, no data or a name DNS cannot carry."""
        answer = self._query(name, rdtype, lifetime)
        if answer is None or answer.rrset is None:
            return ()
        return tuple(presentation(rdata) for rdata in answer.rrset)

    def exists(self, name: str, *, lifetime: float | None = None) -> bool:
        """False only on NXDOMAIN: NODATA still means the name exists."""
        return self._query(name, "A", lifetime) is not None

    def _query(self, name: str, rdtype: str, lifetime: float | None) -> dns.resolver.Answer | None:
        try:
            qname = dns.name.from_text(name)
        except dns.exception.DNSException:
            return None  # not a representable name (empty label, too long): nothing can exist
        limit = self._timeout if lifetime is None else max(0.0, min(lifetime, self._timeout))
        try:
            return self._resolver.resolve(
                qname, rdtype, search=False, raise_on_no_answer=False, lifetime=limit
            )
        except dns.resolver.NXDOMAIN:
            return None
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsTempError(f"{rdtype} {name}: {exc}") from exc
        except dns.exception.DNSException as exc:
            raise DnsTempError(f"{rdtype} {name}: {type(exc).__name__}") from exc
