"""Whether a string can be a mailbox address at all: RFC 5321's lengths and RFC 5322's syntax.

An address that fails is shown to nobody (the sender's text is still read by the detectors),
so nothing an attacker writes in From can become an unbounded or unscanned field.
"""

from __future__ import annotations

import re

MAX_ADDRESS = 254
"""RFC 5321 4.5.3.1.3: a path is at most 256 octets, the angle brackets included. The local
part's own limit (64) is not applied: longer ones are met in the wild, and showing their real
domain (a spoofing attempt's, say) is worth more than refusing them."""
MAX_DOMAIN = 253

_ATEXT = r"[^\s\"(),.:;<>@\[\\\]\x00-\x1f\x7f]+"
_LOCAL = re.compile(rf'(?:{_ATEXT}(?:\.{_ATEXT})*|"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])*")')
_DOMAIN = re.compile(rf"(?:{_ATEXT}(?:\.{_ATEXT})*|\[[^\[\]\\\s\x00-\x1f\x7f]*\])")


def is_plausible_address(address: str) -> bool:
    """``local@domain`` within RFC 5321's path length, each side well formed (internationalised
    addresses allowed), no whitespace or control character outside a quoted local part."""
    local, at, domain = address.rpartition("@")
    if not at or len(address.encode()) > MAX_ADDRESS:
        return False
    return bool(_LOCAL.fullmatch(local)) and is_plausible_domain(domain)


def is_plausible_domain(domain: str) -> bool:
    """A dot-atom or a domain literal of at most 253 octets."""
    return len(domain.encode()) <= MAX_DOMAIN and bool(_DOMAIN.fullmatch(domain))
