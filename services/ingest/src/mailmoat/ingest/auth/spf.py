"""SPF (RFC 7208) check of the envelope sender, or of HELO for a null sender, via pyspf."""

from __future__ import annotations

import time
import warnings
from typing import Any, Literal, cast, get_args

from mailmoat.common.mail.auth import SpfResult, SpfResultCode
from mailmoat.ingest.adapters.dns import DnsTempError, Resolver
from mailmoat.ingest.auth.orgdomain import is_hostname

with warnings.catch_warnings():
    # pyspf's source has invalid escape sequences that warn when it is first compiled.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import spf

DEFAULT_TIMEOUT_SECONDS = 20.0
_CODES: frozenset[str] = frozenset(get_args(SpfResultCode))


class _Query(spf.query):  # type: ignore[misc]
    """pyspf's evaluator with its DNS access routed through our Resolver.

    pyspf calls a module-level lookup function from ``query.dns``; overriding ``dns`` here keeps
    its record logic (limits, macros, includes) while every answer comes from the injected
    resolver, and the whole evaluation shares one deadline.
    """

    def __init__(self, *, resolver: Resolver, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._resolver = resolver
        self._deadline = deadline

    def dns(
        self, name: str, qtype: str, cnames: object = None, ignore_void: bool = False
    ) -> list[Any]:
        name = str(name).rstrip(".").lower()
        if not name or not all(0 < len(label) < 64 for label in name.split(".")):
            return []  # not a name DNS can hold: no answer, and not a void lookup either
        key = (name, qtype)
        if key not in self.cache:
            self.cache[key] = self._fetch(name, qtype)
        result: list[Any] = self.cache[key]
        if not result and not ignore_void:
            self._count_void()
        return result

    def validated_ptrs(self) -> list[str]:
        names: list[str] = self.dns_ptr(self.i)[: spf.MAX_PTR]
        return [name for name in names if self._ptr_matches(name)]

    def _ptr_matches(self, name: str) -> bool:
        try:
            return bool(self.cidrmatch(self.dns_a(name, self.A), self.cidrmax))
        except spf.TempError:
            return False  # RFC 7208 5.5: a DNS error on one PTR name skips that name

    def _fetch(self, name: str, qtype: str) -> list[Any]:
        if time.monotonic() > self._deadline:
            raise spf.TempError("DNS: SPF evaluation ran out of time")
        try:
            answers = self._resolver.lookup(name, qtype)
        except DnsTempError as exc:
            raise spf.TempError(f"DNS {exc}") from exc
        return [_pyspf_form(qtype, answer) for answer in answers]

    def _count_void(self) -> None:
        self.void_lookups += 1
        if self.void_lookups > spf.MAX_VOID_LOOKUPS:
            raise spf.PermError(f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")


def _pyspf_form(qtype: str, answer: str) -> Any:
    """pyspf wants TXT as a list of byte strings and MX as (preference, exchange)."""
    if qtype in ("TXT", "SPF"):
        return [answer.encode("utf-8")]
    if qtype == "MX":
        preference, _, exchange = answer.partition(" ")
        return (int(preference) if preference.isdigit() else 0, exchange)
    return answer


def check_spf(
    *,
    client_ip: str,
    mail_from: str,
    helo: str,
    resolver: Resolver,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> SpfResult:
    """Evaluate SPF for the MAIL FROM identity, or the HELO identity when the sender is null."""
    sender = _bare_path(mail_from)
    scope: Literal["mailfrom", "helo"] = "mailfrom" if sender else "helo"
    local, _, domain = sender.rpartition("@") if "@" in sender else ("", "", sender or helo)
    domain = domain.strip().rstrip(".").lower()
    if "@" in local or not is_hostname(domain):
        # RFC 7208 4.3: a malformed domain is "none". An "@" left in the local part would make
        # pyspf (which splits at the first "@") check another domain than the one we report.
        return SpfResult(result="none", domain=domain, scope=scope, explanation="malformed domain")
    try:
        query = _Query(
            resolver=resolver,
            deadline=time.monotonic() + timeout_seconds,
            i=client_ip,
            s=f"{local}@{domain}" if sender else "",
            h=helo,
        )
        code, _, explanation = query.check()
    except Exception as exc:  # pyspf raises plain errors on garbage input (bad IP, ...)
        return SpfResult(result="permerror", domain=domain, scope=scope, explanation=str(exc))
    result = cast(SpfResultCode, code if code in _CODES else "permerror")
    return SpfResult(result=result, domain=domain, scope=scope, explanation=explanation)


def _bare_path(mail_from: str) -> str:
    """MAIL FROM without angle brackets or source route; ``<>`` becomes the null sender."""
    path = mail_from.strip()
    if path.startswith("<") and path.endswith(">"):
        path = path[1:-1].strip()
    if path.startswith("@") and ":" in path:
        path = path.split(":", 1)[1]  # RFC 5321 4.1.2: a source route is to be ignored
    return path
