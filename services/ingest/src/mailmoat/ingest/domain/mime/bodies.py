"""Decoded leaves: which are the bodies a person reads, and which are attachments."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mailmoat.common.mail.structured import Attachment
from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.charset import decode_text
from mailmoat.ingest.domain.mime.decode import decode_transfer
from mailmoat.ingest.domain.mime.extract import extract_text
from mailmoat.ingest.domain.mime.limits import MimeLimits
from mailmoat.ingest.domain.mime.sniff import sniff_type
from mailmoat.ingest.domain.mime.tree import Leaf
from mailmoat.ingest.domain.parts import PartPayload

_BODY_TYPES = frozenset({"text/plain", "text/html"})


@dataclass(frozen=True, slots=True)
class DecodedLeaf:
    """A leaf with its transfer encoding undone (possibly cut at the limits)."""

    leaf: Leaf
    data: bytes


@dataclass(frozen=True, slots=True)
class Bodies:
    """The text and HTML bodies, joined, and the part numbers they came from."""

    text: str = ""
    html: str = ""
    text_path: str = ""
    html_path: str = ""
    paths: frozenset[str] = frozenset()


def decode_leaves(leaves: list[Leaf], limits: MimeLimits) -> tuple[list[DecodedLeaf], set[str]]:
    """Undo transfer encodings within the per-part and per-message byte budgets."""
    found: set[str] = set()
    budget = limits.max_total_bytes
    decoded = []
    for leaf in leaves:
        cap = min(limits.max_part_bytes, budget)
        if cap <= 0:
            found.add(defects.TOTAL_SIZE_EXCEEDED)
            decoded.append(DecodedLeaf(leaf, b""))
            continue
        data, problems = decode_transfer(leaf.body, leaf.transfer_encoding, cap)
        found |= problems
        budget -= len(data)
        decoded.append(DecodedLeaf(leaf, data))
    return decoded, found


def is_body(leaf: Leaf) -> bool:
    """Text shown in the message itself rather than offered as a file."""
    return (
        leaf.content_type in _BODY_TYPES
        and not leaf.in_attached_message
        and leaf.disposition != "attachment"
        and leaf.filename is None
    )


def read_bodies(parts: list[DecodedLeaf], limits: MimeLimits) -> tuple[Bodies, set[str]]:
    """Join the text/plain and the text/html body parts, each in document order."""
    found: set[str] = set()
    texts: dict[str, list[tuple[str, str]]] = {"text/plain": [], "text/html": []}
    for part in parts:
        if is_body(part.leaf):
            text, problem = decode_text(part.data, part.leaf.charset)
            found |= {problem} if problem else set()
            texts[part.leaf.content_type].append((part.leaf.path, text))
    plain, html = texts["text/plain"], texts["text/html"]
    joined_plain, joined_html = _join(plain, limits, found), _join(html, limits, found)
    return Bodies(
        text=joined_plain,
        html=joined_html,
        text_path=plain[0][0] if plain else "",
        html_path=html[0][0] if html else "",
        paths=frozenset(path for path, _ in plain + html),
    ), found


def _join(pieces: list[tuple[str, str]], limits: MimeLimits, found: set[str]) -> str:
    joined = "\n".join(text for _, text in pieces)
    if len(joined) > limits.max_text_chars:
        found.add(defects.TEXT_TRUNCATED)
        return joined[: limits.max_text_chars]
    return joined


def payloads(parts: list[DecodedLeaf]) -> tuple[PartPayload, ...]:
    """Every leaf's decoded bytes, for the L1 checks."""
    return tuple(
        PartPayload(
            path=part.leaf.path,
            filename=part.leaf.filename,
            declared_type=part.leaf.content_type,
            data=part.data,
        )
        for part in parts
    )


def attachments(
    parts: list[DecodedLeaf], bodies: Bodies, limits: MimeLimits
) -> tuple[Attachment, ...]:
    """Every leaf that is not a body, with the type its bytes show and the text inside it
    (within the message's attachment-text budget)."""
    budget = limits.max_attachment_text_chars
    found = []
    for part in parts:
        if part.leaf.path in bodies.paths:
            continue
        attachment = _attachment(part, limits)
        if len(attachment.text) > budget:
            attachment = attachment.model_copy(update={"text": "", "text_status": "too_large"})
        budget -= len(attachment.text)
        found.append(attachment)
    return tuple(found)


def _attachment(part: DecodedLeaf, limits: MimeLimits) -> Attachment:
    sniffed = sniff_type(part.data)
    extracted = extract_text(part.data, sniffed, part.leaf.content_type, limits)
    return Attachment(
        path=part.leaf.path,
        filename=part.leaf.filename,
        declared_type=part.leaf.content_type,
        sniffed_type=sniffed,
        size=len(part.data),
        sha256=hashlib.sha256(part.data).hexdigest(),
        disposition=part.leaf.disposition,
        text=extracted.text,
        text_status=extracted.status,
    )
