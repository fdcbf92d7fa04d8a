"""The ``eicar`` rule follows the EICAR definition: the string first, whitespace, <= 128 bytes."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.checks import eicar, run_checks
from tests.unit.ingest.checks.samples import eicar as eicar_file
from tests.unit.ingest.checks.samples import make_zip, part


@pytest.mark.parametrize("trailer", [b"", b"\r\n", b"  \t\n\x1a", b" " * 60])
def test_eicar_file_with_allowed_trailer_is_found(trailer: bytes) -> None:
    findings = eicar.check(part(eicar_file() + trailer, "eicar.com"))
    assert [(f.code, f.part, f.start, f.end) for f in findings] == [("malware.eicar", "2", 0, 68)]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(eicar_file()[:40], id="fragment"),
        pytest.param(eicar_file()[1:], id="first-byte-missing"),
        pytest.param(b"see " + eicar_file(), id="not-at-start"),
        pytest.param(eicar_file() + b" trailing text", id="non-blank-trailer"),
        pytest.param(eicar_file() + b" " * 61, id="longer-than-128"),
    ],
)
def test_anything_else_is_not_the_test_file(data: bytes) -> None:
    assert eicar.check(part(data, "eicar.txt")) == []


def test_eicar_inside_a_zip_is_found_through_the_archive_rule() -> None:
    archive = make_zip({"docs/readme.txt": b"hello", "docs/eicar.com": eicar_file()})
    findings = run_checks([part(archive, "bundle.zip")])
    eicars = [f for f in findings if f.code == "malware.eicar"]
    assert [f.part for f in eicars] == ["2/2"]
