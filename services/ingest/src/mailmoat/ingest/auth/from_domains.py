"""RFC5322.From domains for DMARC, read from the raw addr-spec and never from decoded text."""

from __future__ import annotations

from mailmoat.ingest.auth.fields import header_fields


class _Unbalanced(ValueError):
    """A quote, comment or angle bracket that never closes."""


def from_domains(raw: bytes) -> tuple[str, ...]:
    """One entry per mailbox over every From field; ``""`` marks a mailbox with no usable domain.

    Encoded words are left encoded: an addr-spec may not contain them, and decoding them first
    is how display tricks (NUL, CR/LF, a second address) turn into a forged domain.
    """
    domains: list[str] = []
    for field in header_fields(raw):
        if field.name == "from":
            domains.extend(_domains_in(field.unfolded()))
    return tuple(domains)


def domains_in_value(value: str) -> tuple[str, ...]:
    """The domains of one From value (exposed for tests of the address grammar)."""
    return tuple(_domains_in(value))


def _domains_in(value: str) -> list[str]:
    try:
        boxes = _split_mailboxes(value)
    except _Unbalanced:
        return [""]
    return [_domain_of(box) or "" for box in boxes] or [""]


def _split_mailboxes(value: str) -> list[str]:
    """Mailboxes of an address list, comments removed, group names dropped, quotes kept."""
    boxes: list[str] = []
    current: list[str] = []
    depth, quoted, angle, escaped = 0, False, False, False
    for char in value:
        if escaped:
            escaped = False
            if not depth:
                current.append(char)
        elif char == "\\":
            escaped = True
            if not depth:
                current.append(char)
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if not depth:
                current.append(" ")
        elif quoted or angle:
            current.append(char)
            quoted = quoted and char != '"'
            angle = angle and char != ">"
        elif char == "(":
            depth = 1
        elif char in ",;":
            boxes.append("".join(current))
            current = []
        elif char == ":":
            current = []  # a group's display name, not an address
        else:
            current.append(char)
            quoted, angle = char == '"', char == "<"
    if depth or quoted or angle or escaped:
        raise _Unbalanced(value)
    boxes.append("".join(current))
    return [box.strip() for box in boxes if box.strip()]


def _domain_of(box: str) -> str | None:
    """The domain of one mailbox; None when it is ambiguous (two addresses, stray ``@``...)."""
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in box):
        return None
    masked = _mask_quoted(box)
    addr, addr_mask = box, masked
    if "<" in masked or ">" in masked:
        lt, gt = masked.find("<"), masked.find(">")
        outside = masked[:lt] + masked[gt + 1 :]
        if masked.count("<") != 1 or masked.count(">") != 1 or gt < lt or "@" in outside:
            return None
        addr, addr_mask = box[lt + 1 : gt], masked[lt + 1 : gt]
    if addr_mask.startswith("@"):  # obsolete source route: @a,@b:user@domain
        colon = addr_mask.find(":")
        addr, addr_mask = addr[colon + 1 :], addr_mask[colon + 1 :]
    if addr_mask.count("@") != 1:
        return None
    return addr[addr_mask.index("@") + 1 :].strip().lower() or None


def _mask_quoted(text: str) -> str:
    """``text`` with the inside of quoted strings replaced by ``x`` (same length)."""
    out: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted and not escaped and char == '"':
            quoted = False
            out.append(char)
        elif quoted:
            escaped = not escaped and char == "\\"
            out.append("x")
        else:
            quoted = char == '"'
            out.append(char)
    return "".join(out)
