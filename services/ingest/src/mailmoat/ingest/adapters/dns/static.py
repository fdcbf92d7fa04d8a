"""In-memory DNS for air-gapped deployments and tests: answers from a dict or zone files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
from dns.rdtypes.ANY.TXT import TXT

from mailmoat.ingest.adapters.dns import DnsTempError

Records = Mapping[str, Mapping[str, Sequence[str]]]
Timeout = str | tuple[str, str]
MAX_CNAME_HOPS = 8


def normalise(name: str) -> str:
    """Lower-case, without the final dot: the key every name is stored and looked up under."""
    return name.rstrip(".").lower()


class StaticResolver:
    """A TimedResolver over fixed records: ``{name: {rdtype: (answer, ...)}}``, presentation form.

    A name mapped to an empty dict exists without data (NODATA rather than NXDOMAIN). CNAMEs are
    followed and ``*.`` wildcards answer below their closest encloser, as a recursive resolver
    would present them. ``timeouts`` holds names that raise DnsTempError for every query, or
    ``(name, rdtype)`` pairs that raise for that type only (a server that hangs on some types).
    """

    def __init__(self, records: Records, *, timeouts: Iterable[Timeout] = ()) -> None:
        self._records: dict[str, dict[str, tuple[str, ...]]] = {}
        for name, by_type in records.items():
            node = self._records.setdefault(normalise(name), {})
            for rdtype, answers in by_type.items():
                key = rdtype.upper()
                node[key] = node.get(key, ()) + tuple(answers)
        self._timeouts = frozenset(_timeout_key(entry) for entry in timeouts)

    @classmethod
    def from_zone_file(cls, path: Path, *, timeouts: Iterable[Timeout] = ()) -> StaticResolver:
        """Load one zone file, or every file in a directory (names absolute or via ``$ORIGIN``)."""
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        records: dict[str, dict[str, list[str]]] = {}
        for file in files:
            _merge_zone_text(records, file.read_text(encoding="utf-8"), str(file))
        return cls(records, timeouts=timeouts)

    def lookup(self, name: str, rdtype: str, *, lifetime: float | None = None) -> tuple[str, ...]:
        """Answers of type ``rdtype`` for ``name``, following CNAMEs; raises on timeouts.

        ``lifetime`` is accepted as a TimedResolver and ignored: nothing here waits on a network.
        """
        current, wanted = normalise(name), rdtype.upper()
        for _ in range(MAX_CNAME_HOPS):
            if (current, wanted) in self._timeouts:
                raise DnsTempError(f"timeout looking up {wanted} {current}")
            node = self._node(current)
            if node is None:
                return ()
            if wanted in node or "CNAME" not in node or wanted == "CNAME":
                return node.get(wanted, ())
            current = normalise(node["CNAME"][0])
        raise DnsTempError(f"CNAME chain too long at {name}")

    def exists(self, name: str, *, lifetime: float | None = None) -> bool:
        """Whether ``name`` or anything below it is in the data (empty non-terminals exist)."""
        return self._node(normalise(name)) is not None

    def _node(self, name: str) -> dict[str, tuple[str, ...]] | None:
        if name in self._timeouts:
            raise DnsTempError(f"timeout looking up {name}")
        if name in self._records:
            return self._records[name]
        if self._has_descendant(name):
            return {}
        return self._wildcard(name)

    def _has_descendant(self, name: str) -> bool:
        suffix = "." + name
        return any(known.endswith(suffix) for known in self._records)

    def _wildcard(self, name: str) -> dict[str, tuple[str, ...]] | None:
        labels = name.split(".")
        for cut in range(1, len(labels)):
            encloser = ".".join(labels[cut:])
            if encloser in self._records or self._has_descendant(encloser):
                return self._records.get("*." + encloser)
        return None


def _timeout_key(entry: Timeout) -> str | tuple[str, str]:
    if isinstance(entry, str):
        return normalise(entry)
    return (normalise(entry[0]), entry[1].upper())


def _merge_zone_text(records: dict[str, dict[str, list[str]]], text: str, filename: str) -> None:
    # The root as origin lets one file carry several $ORIGINs and any absolute names; a default
    # TTL spares hand-written test zones a $TTL line (answers carry no TTL anyway).
    zone = dns.zone.from_text(
        "$TTL 300\n" + text,
        origin=dns.name.root,
        relativize=False,
        check_origin=False,
        filename=filename,
    )
    for name, node in zone.nodes.items():
        by_type = records.setdefault(normalise(name.to_text()), {})
        for rdataset in node.rdatasets:
            rdtype = dns.rdatatype.to_text(rdataset.rdtype)
            answers = by_type.setdefault(rdtype, [])
            answers.extend(presentation(rdata) for rdata in rdataset)


def presentation(rdata: dns.rdata.Rdata) -> str:
    """One answer in the Resolver protocol's form (TXT joined, names without the final dot)."""
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    rdtype = rdata.rdtype
    if rdtype == dns.rdatatype.MX:
        return f"{rdata.preference} {rdata.exchange.to_text().rstrip('.')}"  # type: ignore[attr-defined]
    if rdtype in (dns.rdatatype.PTR, dns.rdatatype.CNAME, dns.rdatatype.NS):
        return str(rdata.target.to_text().rstrip("."))  # type: ignore[attr-defined]
    return str(rdata.to_text())
