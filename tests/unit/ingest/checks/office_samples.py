"""Builds macro-bearing Office files at test time: a minimal OLE2 writer and a VBA project.

No macro sample ships with the project or its packages (oletools does not install its test
files) and olefile cannot write, so these follow [MS-CFB] and [MS-OVBA] directly: a
version-3 compound file (512-byte sectors, 64-byte mini sectors) holding a VBA project
whose dir stream and module source use the "literal tokens only" form of the compression.
"""

from __future__ import annotations

import io
import struct
import zipfile

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ovba_compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 container: signature, then chunks of literal-only token sequences."""
    out = bytearray(b"\x01")
    for start in range(0, max(len(data), 1), 4096):
        chunk = data[start : start + 4096]
        body = bytearray()
        for token in range(0, len(chunk), 8):
            body += b"\x00" + chunk[token : token + 8]
        out += struct.pack("<H", (len(body) + 2 - 3) | 0x3000 | 0x8000) + body
    return bytes(out)


def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _dir_stream(module: str) -> bytes:
    name = module.encode()
    info = b"".join(
        (
            _record(0x01, struct.pack("<I", 1)),  # SYSKIND: 32-bit Windows
            _record(0x02, struct.pack("<I", 0x409)),  # LCID
            _record(0x14, struct.pack("<I", 0x409)),  # LCIDINVOKE
            _record(0x03, struct.pack("<H", 1252)),  # CODEPAGE
            _record(0x04, b"VBAProject"),  # NAME
            _record(0x05, b"") + _record(0x40, b""),  # DOCSTRING (+ unicode)
            _record(0x06, b"") + _record(0x3D, b""),  # HELPFILEPATH (twice)
            _record(0x07, struct.pack("<I", 0)),  # HELPCONTEXT
            _record(0x08, struct.pack("<I", 0)),  # LIBFLAGS
            struct.pack("<HIIH", 0x09, 4, 1, 0),  # VERSION
            _record(0x0C, b"") + _record(0x3C, b""),  # CONSTANTS (+ unicode)
        )
    )
    modules = b"".join(
        (
            _record(0x0F, struct.pack("<H", 1)),  # MODULES: count
            _record(0x13, struct.pack("<H", 0xFFFF)),  # PROJECTCOOKIE
            _record(0x19, name),  # MODULENAME
            _record(0x1A, name) + _record(0x32, module.encode("utf-16-le")),  # STREAMNAME
            _record(0x1C, b"") + _record(0x48, b""),  # DOCSTRING
            _record(0x31, struct.pack("<I", 0)),  # OFFSET of the source in the stream
            _record(0x1E, struct.pack("<I", 0)),  # HELPCONTEXT
            _record(0x2C, struct.pack("<H", 0xFFFF)),  # COOKIE
            struct.pack("<HI", 0x21, 0),  # TYPE: procedural
            struct.pack("<HI", 0x2B, 0),  # module TERMINATOR
            struct.pack("<HI", 0x10, 0),  # dir TERMINATOR
        )
    )
    return ovba_compress(info + modules)


def vba_streams(source: str, root: str = "", module: str = "Module1") -> dict[str, bytes]:
    """The streams of a one-module VBA project under storage ``root`` ('' or 'Macros/')."""
    project = f'ID="{{00000000-0000-0000-0000-000000000000}}"\r\nModule={module}\r\n'
    return {
        f"{root}PROJECT": project.encode(),
        f"{root}VBA/_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00",
        f"{root}VBA/dir": _dir_stream(module),
        f"{root}VBA/{module}": ovba_compress(source.replace("\n", "\r\n").encode()),
    }


def docm(source: str) -> bytes:
    """A Word 2007+ macro document: OOXML zip whose word/vbaProject.bin is the VBA project."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", compound_file(vba_streams(source)))
    return buffer.getvalue()


def word97(source: str) -> bytes:
    """A Word 97-2003 style OLE file with its VBA project in the Macros storage."""
    streams = {"WordDocument": b"\xec\xa5" + bytes(510), **vba_streams(source, root="Macros/")}
    return compound_file(streams)


class _Entry:
    def __init__(self, name: str, data: bytes | None) -> None:
        self.name, self.data, self.children = name, data, list[_Entry]()
        self.start, self.size, self.index, self.right = _END, 0, 0, _NOSTREAM


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A [MS-CFB] version 3 file holding ``streams`` (paths with '/' between storages)."""
    root = _tree(streams)
    entries = _flatten(root)
    mini = bytearray()
    big: list[bytes] = []
    for entry in entries[1:]:
        if entry.data is None:
            continue
        entry.size = len(entry.data)
        if entry.size < _CUTOFF:
            entry.start = len(mini) // _MINI
            mini += _pad(entry.data, _MINI)
        else:
            big.append(entry.data)
    return _layout(entries, bytes(mini), big)


def _tree(streams: dict[str, bytes]) -> _Entry:
    root = _Entry("Root Entry", None)
    for path, data in streams.items():
        node = root
        *storages, leaf = path.split("/")
        for storage in storages:
            found = next((c for c in node.children if c.name == storage), None)
            node = found or _add(node, _Entry(storage, None))
        _add(node, _Entry(leaf, data))
    return root


def _add(parent: _Entry, child: _Entry) -> _Entry:
    parent.children.append(child)
    return child


def _flatten(root: _Entry) -> list[_Entry]:
    entries, queue = [], [root]
    while queue:
        entry = queue.pop(0)
        entry.index = len(entries)
        entries.append(entry)
        queue.extend(entry.children)
    # Siblings chained through right pointers: a valid, if unbalanced, red-black tree.
    for entry in entries:
        for left, right in zip(entry.children, entry.children[1:], strict=False):
            left.right = right.index
    return entries


def _pad(data: bytes, size: int) -> bytes:
    return data + bytes(-len(data) % size)


def _layout(entries: list[_Entry], mini: bytes, big: list[bytes]) -> bytes:
    directory = _pad(b"".join(_dir_entry(e) for e in entries), _SECTOR)
    minifat = _pad(b"".join(struct.pack("<I", v) for v in _mini_chain(entries)), _SECTOR)
    chains = [directory, minifat if mini else b"", _pad(mini, _SECTOR), *map(_pad_sector, big)]
    counts = [len(chain) // _SECTOR for chain in chains]
    n_fat = 1
    while n_fat * 128 < n_fat + sum(counts):
        n_fat += 1
    starts, fat, next_free = [], [_FATSECT] * n_fat, n_fat
    for count in counts:
        starts.append(next_free if count else _END)
        fat += [next_free + i + 1 for i in range(count - 1)] + ([_END] if count else [])
        next_free += count
    root = entries[0]
    root.start, root.size = starts[2], len(mini)
    for entry, start in zip((e for e in entries if e.size >= _CUTOFF), starts[3:], strict=True):
        entry.start = start
    directory = _pad(b"".join(_dir_entry(e) for e in entries), _SECTOR)
    fat += [_FREE] * (n_fat * 128 - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    header = _header(n_fat, starts[0], starts[1], counts[1])
    return header + fat_bytes + directory + b"".join(chains[1:])


def _pad_sector(data: bytes) -> bytes:
    return _pad(data, _SECTOR)


def _mini_chain(entries: list[_Entry]) -> list[int]:
    chain: list[int] = []
    for entry in entries[1:]:
        if entry.data is None or entry.size >= _CUTOFF:
            continue
        count = max(1, -(-entry.size // _MINI))
        chain += [entry.start + i + 1 for i in range(count - 1)] + [_END]
    return chain


def _dir_entry(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le") + b"\x00\x00"
    kind = 5 if entry.name == "Root Entry" else (1 if entry.data is None else 2)
    child = entry.children[0].index if entry.children else _NOSTREAM
    return b"".join(
        (
            name.ljust(64, b"\x00"),
            struct.pack("<HBB", len(name), kind, 1),
            struct.pack("<III", _NOSTREAM, entry.right, child),
            bytes(16 + 4 + 16),  # class id, state bits, times
            struct.pack("<IQ", entry.start if kind != 1 else 0, entry.size),
        )
    )


def _header(n_fat: int, first_dir: int, first_minifat: int, n_minifat: int) -> bytes:
    difat = [*range(n_fat), *([_FREE] * (109 - n_fat))]
    fields = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        n_fat,
        first_dir,
        0,
        _CUTOFF,
        first_minifat,
        n_minifat,
        _END,
        0,
    )
    return fields + b"".join(struct.pack("<I", v) for v in difat)
