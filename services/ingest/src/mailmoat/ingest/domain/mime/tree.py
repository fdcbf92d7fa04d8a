"""Walks the MIME tree without recursion, bounded in depth and part count, one part at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.decode import decode_transfer
from mailmoat.ingest.domain.mime.headers import HeaderBlock, display_value, read_header_block
from mailmoat.ingest.domain.mime.limits import MimeLimits

_ENCLOSING = frozenset({"message/rfc822", "message/global"})
_ENCODED = frozenset({"base64", "quoted-printable"})


@dataclass(frozen=True, slots=True)
class Leaf:
    """A part with content (not a container), its transfer encoding not yet undone."""

    path: str
    content_type: str
    charset: str | None
    filename: str | None
    disposition: str
    transfer_encoding: str
    body: bytes
    in_attached_message: bool


@dataclass(slots=True)
class Tree:
    """Everything the walk found: the top-level headers, the leaves and the defects."""

    root: HeaderBlock = field(default_factory=HeaderBlock)
    leaves: list[Leaf] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    part_count: int = 0
    max_depth: int = 0

    def flag(self, *codes: str) -> None:
        """Record defect codes once each, in the order first met."""
        self.defects.extend(code for code in codes if code not in self.defects)


@dataclass(frozen=True, slots=True)
class _Pending:
    data: bytes
    prefix: str
    leaf_path: str
    depth: int
    nested: bool
    default_type: str = "text/plain"


def walk(raw: bytes, limits: MimeLimits) -> Tree:
    """Split ``raw`` into leaves; a part that fails is flagged and skipped, never fatal."""
    tree = Tree()
    stack = [_Pending(raw, "", "0", 0, nested=False)]
    while stack:
        if tree.part_count >= limits.max_parts:
            tree.flag(defects.TOO_MANY_PARTS)
            break
        item = stack.pop()
        tree.part_count += 1
        tree.max_depth = max(tree.max_depth, item.depth)
        try:
            stack.extend(reversed(_visit(tree, item, limits)))
        except Exception:  # one broken part must not lose the others
            tree.flag(defects.PART_ERROR)
    return tree


def _visit(tree: Tree, item: _Pending, limits: MimeLimits) -> list[_Pending]:
    block = read_header_block(item.data, limits, top=item.depth == 0)
    if item.depth == 0:
        tree.root = block
        if not block.fields:
            tree.flag(defects.NO_HEADERS)
    tree.flag(*block.defects)
    info = _content_headers(block, item.default_type)
    body = item.data[block.body_start :]
    kind = info.get_content_type()
    container = kind.startswith("multipart/") or kind in _ENCLOSING
    if container and item.depth >= limits.max_depth:
        tree.flag(defects.NESTING_TOO_DEEP)
        container = False
    if container and kind in _ENCLOSING:
        return [_enclosed(item, block, body, limits)]
    if container:
        children = _children(tree, item, info, body, limits)
        if children is not None:
            return children
        kind = "text/plain"
    tree.leaves.append(_leaf(item, block, info, kind, body, limits))
    return []


def _content_headers(block: HeaderBlock, default_type: str) -> Message:
    info = Message()
    info.set_default_type(default_type)
    for name in ("Content-Type", "Content-Disposition"):
        value = block.get(name)
        if value is not None:
            info[name] = value
    return info


def _enclosed(item: _Pending, block: HeaderBlock, body: bytes, limits: MimeLimits) -> _Pending:
    encoding = (block.get("Content-Transfer-Encoding") or "").strip().lower()
    if encoding in _ENCODED:
        # Not allowed by RFC 2046, yet senders do it; the enclosed message is what matters.
        body = decode_transfer(body, encoding, limits.max_part_bytes)[0]
    leaf_path = f"{item.prefix}.1" if item.prefix else "1"
    return _Pending(body, item.prefix, leaf_path, item.depth + 1, nested=True)


def _children(
    tree: Tree, item: _Pending, info: Message, body: bytes, limits: MimeLimits
) -> list[_Pending] | None:
    boundary = info.get_boundary()
    if not boundary:
        tree.flag(defects.MISSING_BOUNDARY)
        return None
    room = limits.max_parts - tree.part_count
    chunks = split_multipart(body, boundary[:200], room, tree)
    if chunks is None:
        tree.flag(defects.MISSING_START_BOUNDARY)
        return None
    child_type = "message/rfc822" if info.get_content_type() == "multipart/digest" else "text/plain"
    return [
        _Pending(chunk, path, path, item.depth + 1, item.nested, child_type)
        for path, chunk in (
            (f"{item.prefix}.{n}" if item.prefix else str(n), chunk)
            for n, chunk in enumerate(chunks, start=1)
        )
    ]


def split_multipart(body: bytes, boundary: str, room: int, tree: Tree) -> list[bytes] | None:
    """The body parts between delimiter lines; None when no opening delimiter exists."""
    marker = boundary.encode("utf-8", errors="replace")
    delimiter = re.compile(rb"^--" + re.escape(marker) + rb"(--)?[ \t]*\r?$", re.MULTILINE)
    chunks: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            chunks.append(body[start : _before_line_break(body, match.start())])
            if len(chunks) >= room:
                tree.flag(defects.TOO_MANY_PARTS)
                return chunks
        if match.group(1):
            return chunks if start is not None else None
        start = match.end() + 1
    if start is None:
        return None
    tree.flag(defects.MISSING_FINAL_BOUNDARY)
    chunks.append(body[start:])
    return chunks


def _before_line_break(body: bytes, end: int) -> int:
    # The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
    if end > 0 and body[end - 1] == 0x0A:
        end -= 1
        if end > 0 and body[end - 1] == 0x0D:
            end -= 1
    return end


def _leaf(
    item: _Pending,
    block: HeaderBlock,
    info: Message,
    kind: str,
    body: bytes,
    limits: MimeLimits,
) -> Leaf:
    return Leaf(
        path=item.leaf_path,
        content_type=kind,
        charset=_safe(info.get_content_charset),
        filename=_filename(info, limits),
        disposition=(_safe(info.get_content_disposition) or "")[:32],
        transfer_encoding=(block.get("Content-Transfer-Encoding") or "")[:64],
        body=body,
        in_attached_message=item.nested,
    )


def _filename(info: Message, limits: MimeLimits) -> str | None:
    name = _safe(info.get_filename)
    if name is None:
        return None
    # Many senders put RFC 2047 words in file names although RFC 2231 is the standard way.
    return display_value(name, limits)[0] or None


def _safe(getter: Callable[[], object]) -> str | None:
    try:
        value = getter()
    except Exception:  # the stdlib parameter parser raises on some inputs
        return None
    return value if isinstance(value, str) else None
