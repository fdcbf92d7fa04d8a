"""Organizational domains (public suffix list) and DMARC identifier alignment."""

from __future__ import annotations

import re
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package; loading it takes a moment


def normalise_domain(domain: str) -> str:
    """Lower case without leading or trailing dots, as compared for alignment."""
    return domain.strip().strip(".").lower()


def is_hostname(domain: str) -> bool:
    """Whether ``domain`` is an ASCII DNS name of at least two labels (A-labels for IDNs)."""
    labels = normalise_domain(domain).split(".")
    return len(labels) >= 2 and len(domain) <= 253 and all(_LABEL.match(x) for x in labels)


def organizational_domain(domain: str) -> str:
    """The registrable domain (one label below its public suffix), else the domain itself."""
    name = normalise_domain(domain)
    return _suffix_list().privatesuffix(name) or name


def aligned(from_domain: str, authenticated: str, mode: str) -> bool:
    """RFC 7489 3.1: strict needs the same name, relaxed the same organizational domain."""
    left, right = normalise_domain(from_domain), normalise_domain(authenticated)
    if not left or not right:
        return False
    if mode == "s":
        return left == right
    return organizational_domain(left) == organizational_domain(right)
