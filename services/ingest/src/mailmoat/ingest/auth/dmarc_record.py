"""DMARC policy records (RFC 7489 section 6.3, RFC 9091 ``np=``): tag parsing and validation."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Policy = Literal["none", "quarantine", "reject"]
Alignment = Literal["r", "s"]

_POLICIES: dict[str, Policy] = {"none": "none", "quarantine": "quarantine", "reject": "reject"}
_ALIGNMENTS: dict[str, Alignment] = {"r": "r", "s": "s"}
_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class DmarcRecord(BaseModel):
    """One parsed ``v=DMARC1`` record; ``errors`` lists what was invalid and ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p: Policy | None = Field(default=None, description="Policy for the domain; None if invalid.")
    sp: Policy | None = Field(default=None, description="Policy for subdomains, if given.")
    np: Policy | None = Field(default=None, description="Policy for non-existent subdomains.")
    adkim: Alignment = Field(default="r", description="DKIM alignment mode.")
    aspf: Alignment = Field(default="r", description="SPF alignment mode.")
    pct: int = Field(default=100, ge=0, le=100, description="Share of failing mail to act on.")
    has_report_uri: bool = Field(default=False, description="rua= holds a plausible URI.")
    malformed: bool = Field(default=False, description="The tag list itself did not parse.")
    errors: tuple[str, ...] = Field(default=(), description="Invalid tags or values, in words.")

    @property
    def valid(self) -> bool:
        """Whether every tag parsed and ``p=`` is present and valid."""
        return not self.errors


def is_dmarc_record(text: str) -> bool:
    """RFC 7489 6.6.3: only records whose first tag is exactly ``v=DMARC1`` count."""
    first = text.split(";", 1)[0].strip()
    name, _, value = first.partition("=")
    return name.strip() == "v" and value.strip() == "DMARC1"


def parse_record(text: str) -> DmarcRecord:
    """Parse a record's tag list; bad values are reported and fall back to the defaults."""
    if not is_dmarc_record(text):
        return DmarcRecord(malformed=True, errors=("not a v=DMARC1 record",))
    fields: dict[str, object] = {}
    errors: list[str] = []
    for tag in filter(None, (part.strip() for part in text.split(";")[1:])):
        name, sep, value = (s.strip() for s in tag.partition("="))
        if not sep or not _TAG.match(name):
            fields["malformed"] = True
            errors.append(f"missing tag or value: {text!r}")
            continue
        if problem := _apply(fields, name.lower(), value):
            errors.append(problem)
    if fields.get("p") is None:
        errors.append("missing or invalid p= tag")
    return DmarcRecord.model_validate({**fields, "errors": tuple(errors)})


def _apply(fields: dict[str, object], name: str, value: str) -> str | None:
    """Store one tag's value in ``fields``; return a description when it is invalid."""
    if name in ("p", "sp", "np"):
        fields[name] = _policy(value)
        return None if fields[name] else f"invalid {name}={value!r}"
    if name in ("adkim", "aspf"):
        if value.lower() in _ALIGNMENTS:
            fields[name] = _ALIGNMENTS[value.lower()]
            return None
        return f"invalid {name}={value!r}"
    if name == "pct":
        if value.isdigit() and int(value) <= 100:
            fields["pct"] = int(value)
            return None
        return f"invalid pct={value!r}"
    return _check_reporting(fields, name, value)


def _policy(value: str) -> Policy | None:
    # Abbreviations such as p=n are accepted by deployed receivers, so accept a unique prefix.
    word = value.lower()
    matches = [policy for key, policy in _POLICIES.items() if word and key.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _check_reporting(fields: dict[str, object], name: str, value: str) -> str | None:
    """Reporting tags do not change the verdict, but an invalid one makes the record invalid."""
    if name == "rua":
        fields["has_report_uri"] = any(_URI.match(uri.strip()) for uri in value.split(","))
    if name == "ri" and not value.isdigit():
        return f"invalid ri={value!r}"
    if name == "rf" and not all(f.strip().lower() == "afrf" for f in value.split(":")):
        return f"invalid rf={value!r}"  # afrf is the only registered failure report format
    if name == "fo" and not re.fullmatch(r"[01ds](:[01ds])*", value.replace(" ", "")):
        return f"invalid fo={value!r}"
    return None
