"""Entry point: raw MIME in, a StructuredMessage and decoded parts out; it never raises."""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.bodies import (
    Bodies,
    attachments,
    decode_leaves,
    payloads,
    read_bodies,
)
from mailmoat.ingest.domain.mime.content import Content, read_content
from mailmoat.ingest.domain.mime.headers import read_header_block
from mailmoat.ingest.domain.mime.headerview import HeaderView, read_headers
from mailmoat.ingest.domain.mime.limits import DEFAULT_LIMITS, MimeLimits
from mailmoat.ingest.domain.mime.tree import Tree, walk
from mailmoat.ingest.domain.parts import PartPayload


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """The parse result: the stored structure, and the decoded parts (in memory only)."""

    message: StructuredMessage
    parts: tuple[PartPayload, ...]


def parse_message(raw: bytes, limits: MimeLimits = DEFAULT_LIMITS) -> ParsedMail:
    """Parse ``raw`` within ``limits``; malformed input is flagged, never an exception."""
    try:
        return _parse(raw, limits)
    except Exception:  # the front door must answer for any input: salvage and flag instead
        return _salvage(raw, limits)


def _parse(raw: bytes, limits: MimeLimits) -> ParsedMail:
    tree = walk(raw[: limits.max_raw_bytes], limits)
    if len(raw) > limits.max_raw_bytes:
        tree.flag(defects.MESSAGE_TOO_LARGE)
    header_view = _headers(tree, limits)
    decoded, found = decode_leaves(tree.leaves, limits)
    bodies, body_defects = read_bodies(decoded, limits)
    content = _content(bodies, limits)
    tree.flag(*sorted(found | body_defects | content.defects))
    message = _message(tree, header_view, bodies, content).model_copy(
        update={"attachments": attachments(decoded, bodies, limits)}
    )
    return ParsedMail(message=message, parts=payloads(decoded))


def _headers(tree: Tree, limits: MimeLimits) -> HeaderView:
    try:
        view = read_headers(tree.root, limits)
    except Exception:  # keep the bodies even when the headers defeat us
        tree.flag(defects.UNPARSEABLE)
        return HeaderView()
    tree.flag(*sorted(view.defects))
    return view


def _content(bodies: Bodies, limits: MimeLimits) -> Content:
    try:
        return read_content(bodies, limits)
    except Exception:  # no visible text rather than no message
        return Content(defects=frozenset({defects.PART_ERROR}))


def _message(tree: Tree, view: HeaderView, bodies: Bodies, content: Content) -> StructuredMessage:
    return StructuredMessage(
        headers=view.headers,
        subject=view.subject,
        from_=view.from_,
        from_display_mismatch=view.from_display_mismatch,
        sender=view.sender,
        reply_to=view.reply_to,
        to=view.to,
        cc=view.cc,
        message_id=view.message_id,
        in_reply_to=view.in_reply_to,
        references=view.references,
        date=view.date,
        text_body=bodies.text,
        html_body=bodies.html,
        visible_text=content.visible,
        hidden_content=content.hidden,
        quoted_history=content.quoted,
        invalid_mime=not defects.MALFORMED.isdisjoint(tree.defects),
        defects=tuple(tree.defects),
        max_depth=tree.max_depth,
        part_count=tree.part_count,
    )


def _salvage(raw: bytes, limits: MimeLimits) -> ParsedMail:
    tree = Tree()
    tree.flag(defects.UNPARSEABLE)
    try:
        tree.root = read_header_block(raw[: limits.max_raw_bytes], limits)
        view = read_headers(tree.root, limits)
    except Exception:  # nothing readable at all: an empty, flagged message
        view = HeaderView()
    return ParsedMail(message=_message(tree, view, Bodies(), Content()), parts=())
