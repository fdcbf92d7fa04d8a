"""Rule ``eicar``: the EICAR antivirus test file, the agreed way to test that scanning works."""

from __future__ import annotations

from mailmoat.common.events.inbound import Finding
from mailmoat.ingest.domain.checks.base import Rule, finding
from mailmoat.ingest.domain.parts import PartPayload

# Kept in pieces so that no scanner quarantines this repository or its packages.
_EICAR = b"".join(
    (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$", b"EICAR-STANDARD-", b"ANTIVIRUS-TEST-FILE!", b"$H+H*")
)
_MAX_FILE = 128
# The EICAR definition allows only these after the 68-byte string (ctrl-Z included).
_TRAILER = b" \t\r\n\x1a"


def check(part: PartPayload) -> list[Finding]:
    """The part is the test file: the string first, then at most whitespace, 128 bytes in all."""
    data = part.data
    if len(data) > _MAX_FILE or not data.startswith(_EICAR):
        return []
    if data[len(_EICAR) :].strip(_TRAILER):
        return []
    reason = "EICAR antivirus test file"
    return [finding("malware.eicar", reason, part, 0, len(_EICAR))]


RULE = Rule(
    code="eicar",
    description="The EICAR test file (the 68-byte string, optional whitespace, <= 128 bytes).",
    emits=("malware.eicar",),
    check=check,
)
