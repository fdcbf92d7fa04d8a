"""Look-alike names: the UTS #39 skeleton, under which two strings a reader cannot tell apart
(``paypal.example`` and ``paypa1.example``, Latin ``a`` and Cyrillic ``\\u0430``, ``m`` and ``rn``)
become equal.

The prototype table ships beside this module (``confusables.tsv``), derived from Unicode's
``confusables.txt`` by :func:`derive_table`: one line per source, its code points, a tab, the
prototype's code points, all in hex. Rebuild it with
``python -m mailmoat.common.lookalike path/to/confusables.txt > confusables.tsv``.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

TABLE = "confusables.tsv"
_HEADER = "# UTS #39 prototypes, derived from Unicode confusables.txt (Unicode License v3)"


def derive_table(lines: Iterable[str]) -> dict[str, str]:
    """Source -> prototype from the lines of ``confusables.txt`` (comments and blanks skipped)."""
    table: dict[str, str] = {}
    for line in lines:
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (field.strip() for field in data.split(";"))
        table[_chars(source)] = _chars(target)
    return table


def _chars(hex_points: str) -> str:
    return "".join(chr(int(point, 16)) for point in hex_points.split())


def _hex(text: str) -> str:
    return " ".join(f"{ord(c):04X}" for c in text)


def render_table(table: dict[str, str]) -> str:
    """The shipped file's text for ``table``."""
    rows = (f"{_hex(source)}\t{_hex(target)}" for source, target in sorted(table.items()))
    return "\n".join([_HEADER, *rows]) + "\n"


@cache
def prototypes() -> dict[str, str]:
    """The shipped table: single code points only, as the skeleton maps code point by code
    point."""
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            source, target = line.split("\t")
            table[_chars(source)] = _chars(target)
    return {s: t for s, t in table.items() if len(s) == 1}


def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, every code point replaced by its prototype, NFD again."""
    table = prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def unicode_domain(domain: str) -> str:
    """``domain`` lowercased, without a trailing dot, each ``xn--`` label decoded (a label
    that is not valid Punycode stays as it came)."""
    labels = domain.strip().rstrip(".").lower().split(".")
    return ".".join(_decode_label(label) for label in labels)


def _decode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode").lower()
    except UnicodeError:
        return label


def domain_skeleton(domain: str) -> str:
    """The skeleton two domains share when they look alike; case never matters in a domain."""
    return skeleton(unicode_domain(domain).casefold()).casefold()


def split_address(address: str) -> tuple[str, str]:
    """An addr-spec as the sender graph keys it: the address lowercased (its domain decoded
    from Punycode) and that domain; ``("", "")`` for something without a domain."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return "", ""
    domain = unicode_domain(domain)
    return f"{local.lower()}@{domain}", domain


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8-sig") as source:
        sys.stdout.write(render_table(derive_table(source)))
