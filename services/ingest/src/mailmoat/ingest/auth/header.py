"""Our Authentication-Results header (RFC 8601): rendering, and stamping it over forged copies."""

from __future__ import annotations

import re

from mailmoat.common.mail.auth import (
    ArcResult,
    AuthenticationResults,
    DkimResult,
    DmarcResult,
    SpfResult,
)
from mailmoat.ingest.auth.fields import RawField, header_fields, line_ending

HEADER_NAME = "Authentication-Results"
MAX_REASON_CHARS = 120
_BARE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UNSAFE = re.compile(r"[^\x20-\x7e]")
_TOKEN = re.compile(r'[^\s;()"\\\x00-\x1f\x7f]+')


def render_header(results: AuthenticationResults, newline: str = "\r\n") -> str:
    """The whole field, one result per folded line, without the final line break."""
    resinfos = [
        _spf(results.spf),
        *(_dkim(d) for d in results.dkim or (DkimResult(result="none"),)),
        _dmarc(results.dmarc),
        _arc(results.arc),
    ]
    return f";{newline}\t".join([f"{HEADER_NAME}: {_value(results.authserv_id)}", *resinfos])


def stamp(raw: bytes, results: AuthenticationResults) -> bytes:
    """Prepend our header after removing every existing one that claims our authserv-id.

    Everything else in ``raw`` is kept byte for byte; results of other authserv-ids stay.
    """
    newline = line_ending(raw)
    forged = [f for f in header_fields(raw) if _claims_to_be(f, results.authserv_id)]
    kept: list[bytes] = []
    cursor = 0
    for field in forged:
        kept.append(raw[cursor : field.start])
        cursor = field.end
    kept.append(raw[cursor:])
    ours = render_header(results, newline.decode("ascii")).encode("utf-8") + newline
    return ours + b"".join(kept)


def _claims_to_be(field: RawField, authserv_id: str) -> bool:
    """An A-R field for our id; one whose id cannot be read is treated as ours (RFC 8601 5)."""
    if field.name != HEADER_NAME.lower():
        return False
    found = authserv_id_of(field.unfolded())
    return found is None or _same_id(found, authserv_id)


def _same_id(left: str, right: str) -> bool:
    return left.strip(".").lower() == right.strip(".").lower()


def authserv_id_of(value: str) -> str | None:
    """The authserv-id at the start of an A-R value, after any comments; None if unreadable."""
    pos = _skip_cfws(value, 0)
    if pos is None or pos >= len(value):
        return None
    if value[pos] == '"':
        end = value.find('"', pos + 1)
        return value[pos + 1 : end].replace("\\", "") if end > pos else None
    token = _TOKEN.match(value, pos)
    return token.group() if token else None


def _skip_cfws(value: str, pos: int) -> int | None:
    """Index after whitespace and (nested, escaped) comments; None for an unclosed comment."""
    depth = 0
    while pos < len(value):
        char = value[pos]
        if char == "\\" and depth:
            pos += 1
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth and not char.isspace():
            return pos
        pos += 1
    return None if depth else pos


def _spf(spf: SpfResult) -> str:
    ptype = "smtp.mailfrom" if spf.scope == "mailfrom" else "smtp.helo"
    return f"spf={spf.result}" + _prop(ptype, spf.domain)


def _dkim(dkim: DkimResult) -> str:
    return (
        f"dkim={dkim.result}"
        + _reason(dkim.reason if dkim.result != "pass" else "")
        + _prop("header.d", dkim.domain)
        + _prop("header.s", dkim.selector)
    )


def _dmarc(dmarc: DmarcResult) -> str:
    comment = f" (p={dmarc.policy} dis={dmarc.disposition})" if dmarc.policy else ""
    from_domain = _prop("header.from", dmarc.from_domain)
    return f"dmarc={dmarc.result}{comment}" + _reason(dmarc.reason) + from_domain


def _arc(arc: ArcResult) -> str:
    return f"arc={arc.result}" + _reason(arc.reason if arc.result == "fail" else "")


def _prop(ptype: str, value: str) -> str:
    return f" {ptype}={_value(value)}" if value else ""


def _reason(reason: str) -> str:
    return f" reason={_quoted(reason[:MAX_REASON_CHARS])}" if reason else ""


def _value(value: str) -> str:
    """A bare token only for plain names; anything else (quotes, parentheses, NUL) is quoted."""
    return value if _BARE_VALUE.fullmatch(value) else _quoted(value)


def _quoted(value: str) -> str:
    safe = _UNSAFE.sub("?", value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{safe}"'
