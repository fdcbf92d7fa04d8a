"""Mail::DKIM's verifier corpus against ``verify_dkim``: a differential, disagreements named."""

from __future__ import annotations

import csv
from pathlib import Path

from mailmoat.common.mail.auth import DkimResult
from mailmoat.ingest.adapters.dns import DnsTempError
from mailmoat.ingest.auth.dkim import verify_dkim
from tests.support.external import external, report

SHA1 = "rsa-sha1 is refused (RFC 8301); Mail::DKIM still verifies it"
NO_VERSION = "pre-RFC 4871 draft signature without v=; RFC 6376 3.5 requires v=1"
_SHA1_CASES = (
    "good_ietf00_1 good_ietf00_2 good_ietf00_3 good_ietf00_4 good_ietf00_5 mine_ietf01_1"
    " mine_ietf01_2 mine_ietf05_1 good_ietf01_2 good_rfc4871_3 good_rfc4871_4 good_1878523"
    " good_83176 multiple_2 good_qp_1 good_qp_2 good_qp_3 no_body_1 no_body_2 no_body_3 ignore_1"
    " ignore_4 ignore_5 ignore_6 ignore_7 ignore_8 goodkey_1 goodkey_2 goodkey_3 goodkey_4"
    " badkey_1 badkey_2 badkey_3 badkey_4 badkey_5 badkey_6 badkey_7 badkey_8 badkey_9 badkey_10"
    " badkey_12 badkey_13 badkey_14 badkey_15"
)
_NO_VERSION_CASES = (
    "mine_ietf01_3 mine_ietf01_4 good_ietf01_1 multiple_1 bad_ietf01_1 bad_ietf01_2 bad_ietf01_3"
    " bad_1"
)
# file -> (our verdict, text our reason must contain, why upstream says otherwise)
EXCEPTIONS: dict[str, tuple[str, str, str]] = {
    **{f"{name}.txt": ("fail", "rsa-sha1", SHA1) for name in _SHA1_CASES.split()},
    **{
        f"{name}.txt": ("invalid", "missing b'v'", NO_VERSION) for name in _NO_VERSION_CASES.split()
    },
}
_RANK = ("none", "invalid", "fail", "pass")


class FakeDns:
    """Mail::DKIM's ``FAKE_DNS.dat`` as a Resolver (``~~...~~`` marks a DNS failure)."""

    def __init__(self, path: Path) -> None:
        self._records: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, data = line.strip().partition(" ")
                self._records[name.lower()] = data.strip()

    def lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        data = self._records.get(name.lower().rstrip("."), "NXDOMAIN")
        if data.startswith("~~"):
            raise DnsTempError(data.strip("~"))
        if rdtype != "TXT" or data == "NXDOMAIN":
            return ()
        return ("",) if data == '""' else (data,)

    def exists(self, name: str) -> bool:
        return self.lookup(name, "TXT") != ()


def verdict(results: tuple[DkimResult, ...]) -> str:
    """Mail::DKIM's message verdict: the best signature, temp/perm errors being 'invalid'."""
    words = [r.result if r.result in ("pass", "fail") else "invalid" for r in results]
    return max(words, key=_RANK.index, default="none")


def test_mail_dkim_corpus() -> None:
    folder = external("mail_dkim_corpus")
    dns = FakeDns(folder / "FAKE_DNS.dat")
    with (folder / "expected.tsv").open(encoding="utf-8", newline="") as table:
        every_row = list(csv.DictReader(table, delimiter="\t"))
    rows = [row for row in every_row if row["protocol"] == "dkim"]
    disagreements: dict[str, str] = {}
    for row in rows:
        results = verify_dkim((folder / "corpus" / row["file"]).read_bytes(), dns)
        got = verdict(results)
        if row["file"] in EXCEPTIONS:
            ours, because, _ = EXCEPTIONS[row["file"]]
            assert got == ours, row["file"]
            assert any(because in r.reason for r in results), row["file"]
        if got != row["expected"]:
            disagreements[row["file"]] = f"upstream {row['expected']}, ours {got}"
    assert len(rows) == 62
    # The legacy DomainKeys rows (RFC 4870) are outside DKIM: they must carry no DKIM verdict.
    for row in every_row:
        if row["protocol"] == "domainkeys":
            assert verify_dkim((folder / "corpus" / row["file"]).read_bytes(), dns) == ()
    assert set(disagreements) == set(EXCEPTIONS), disagreements
    report("dkim corpus", len(rows) - len(EXCEPTIONS), len(rows), len(EXCEPTIONS))
