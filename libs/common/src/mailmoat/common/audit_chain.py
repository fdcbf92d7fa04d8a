"""The audit log's hash chain, one per workspace, and the signed checkpoints of its head.

Each sealed row carries its place in its workspace's chain (``seq``, from 1), the hash of the row
before it (``prev_sha256``; the first row links to the workspace's genesis hash) and its own
hash (``row_sha256``): SHA-256 over a canonical JSON encoding of every field of the row, its
place and that link. Editing a sealed row changes its hash; deleting, inserting or moving one
breaks the next row's link or leaves a gap in the places. Someone able to rewrite the whole
table could compute a new chain, so the sealer also signs the chain's head from time to time
with the deployment's Ed25519 key (a checkpoint, itself an audit row, published on the audit
stream): a rewritten history no longer matches the head a checkpoint signed.

This module holds what needs no database: the encoding, the hashes, the key and the checks of a
run of rows. ``audit_seal`` reads and writes the rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_ACTION = "audit.checkpoint"
"""The action of the audit row that records a signed checkpoint."""
_KEY_PURPOSE = b"mailmoat-audit-checkpoint"


class ChainRow(Protocol):
    """What the chain reads of an audit row (``AuditEntry`` has it)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    action: str
    actor: str
    source: str
    provider: str | None
    target: str
    subject_sha256: str | None
    detail: dict[str, Any] | None
    created_at: datetime
    seq: int | None
    prev_sha256: str | None
    row_sha256: str | None


def genesis(workspace_id: uuid.UUID) -> str:
    """The hash the first row of a workspace's chain links to."""
    return hashlib.sha256(f"mailmoat-audit-genesis:{workspace_id}".encode()).hexdigest()


def row_hash(row: ChainRow, seq: int, prev_sha256: str) -> str:
    """SHA-256 of the canonical encoding of ``row`` at place ``seq`` after ``prev_sha256``."""
    return hashlib.sha256(_canonical(row, seq, prev_sha256)).hexdigest()


def _canonical(row: ChainRow, seq: int, prev_sha256: str) -> bytes:
    """Sorted keys, no whitespace, ASCII only, times as UTC ISO 8601 to the microsecond: the
    same row encodes to the same bytes whatever the database or driver returned."""
    fields = {
        "id": str(row.id),
        "workspace_id": str(row.workspace_id),
        "seq": seq,
        "prev_sha256": prev_sha256,
        "action": row.action,
        "actor": row.actor,
        "source": row.source,
        "provider": row.provider,
        "target": row.target,
        "subject_sha256": row.subject_sha256,
        "detail": row.detail,
        "created_at": naive_utc(row.created_at).isoformat(timespec="microseconds"),
    }
    return canonical_json(fields)


def canonical_json(fields: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, ASCII only: the same fields always encode to the same bytes."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as naive UTC (the databases store naive UTC; an aware time is converted)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class CheckpointKey:
    """The deployment's Ed25519 key that signs checkpoints."""

    private: Ed25519PrivateKey

    @classmethod
    def derive(cls, secret: str) -> CheckpointKey:
        """The key derived from the deployment secret for this use alone (HMAC-SHA256 of a
        purpose string), so a deployment has one with nothing more to configure."""
        seed = hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def load(cls, path: Path) -> CheckpointKey:
        """A PEM Ed25519 private key (PKCS#8, unencrypted)."""
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: an audit checkpoint key must be Ed25519")
        return cls(key)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, workspace_id: uuid.UUID, seq: int, head_sha256: str) -> dict[str, Any]:
        """A checkpoint of the chain's head at ``seq``: the detail of its audit row."""
        signed_at = datetime.now(UTC).isoformat(timespec="seconds")
        payload = _checkpoint_payload(workspace_id, seq, head_sha256, signed_at)
        return {
            "seq": seq,
            "head_sha256": head_sha256,
            "signed_at": signed_at,
            "key_id": key_id(self.public),
            "signature": base64.b64encode(self.private.sign(payload)).decode(),
        }


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes (what ``mailmoat admin audit-key`` prints
    and ``MAILMOAT_AUDIT_TRUSTED_KEYS`` takes)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def _checkpoint_payload(workspace_id: uuid.UUID, seq: int, head: str, signed_at: str) -> bytes:
    fields = {"workspace_id": str(workspace_id), "seq": seq, "head_sha256": head}
    return canonical_json({**fields, "signed_at": signed_at})


@dataclass(frozen=True)
class Break:
    """The first broken link: the place it was found at, the row there (if any), and why."""

    seq: int
    row_id: uuid.UUID | None
    reason: str


@dataclass
class Walk:
    """A check of one workspace's chain, fed its sealed rows in order of place, then
    ``settle``d with the stored hashes at the places its checkpoints signed."""

    workspace_id: uuid.UUID
    trusted: dict[str, Ed25519PublicKey]
    """The public keys whose checkpoints count, by ``key_id``."""
    rows: int = 0
    head: str = ""
    checkpoints: int = 0
    broken: Break | None = None
    claims: list[tuple[int, str]] = field(default_factory=list)
    """What each valid checkpoint met so far signed: (place, head hash)."""

    def __post_init__(self) -> None:
        self.head = genesis(self.workspace_id)

    def feed(self, rows: Iterable[ChainRow]) -> bool:
        """Check the next rows; False once a link is broken (the rest need not be read)."""
        for row in rows:
            if self.broken is not None:
                break
            self._check(row)
        return self.broken is None

    def _check(self, row: ChainRow) -> None:
        expected = self.rows + 1
        if row.seq != expected:
            self.broken = Break(expected, None, f"row {expected} is missing (next is {row.seq})")
        elif row.prev_sha256 != self.head:
            self.broken = Break(expected, row.id, "its link does not name the row before it")
        elif row.row_sha256 != row_hash(row, expected, self.head):
            self.broken = Break(expected, row.id, "its content or place was changed")
        else:
            self.rows, self.head = expected, row.row_sha256
            if row.action == CHECKPOINT_ACTION:
                self._checkpoint(row, expected)

    def _checkpoint(self, row: ChainRow, at: int) -> None:
        detail = row.detail or {}
        try:
            seq, head = int(detail["seq"]), str(detail["head_sha256"])
            payload = _checkpoint_payload(self.workspace_id, seq, head, str(detail["signed_at"]))
            key = self.trusted[str(detail["key_id"])]
            key.verify(base64.b64decode(str(detail["signature"])), payload)
        except KeyError:
            self.broken = Break(at, row.id, "a checkpoint by an untrusted key, or malformed")
            return
        except (InvalidSignature, ValueError, TypeError):
            self.broken = Break(at, row.id, "a checkpoint whose signature is not valid")
            return
        if not 0 < seq < at:
            self.broken = Break(at, row.id, "a checkpoint of a place not before it")
            return
        self.checkpoints += 1
        self.claims.append((seq, head))

    def settle(self, stored: dict[int, str], expected: tuple[int, str] | None = None) -> None:
        """``stored``: the chain's hash at each place a checkpoint signed (rows the walk already
        checked). ``expected``: a checkpoint kept outside the database (from the audit stream),
        which alone shows rows cut from the chain's end."""
        if self.broken is not None:
            return
        claims = sorted({*self.claims, *([expected] if expected else [])})
        for seq, head in claims:
            if seq > self.rows:
                self.broken = Break(self.rows + 1, None, f"rows {self.rows + 1} to {seq} are gone")
                return
            if stored.get(seq) != head:
                self.broken = Break(seq, None, f"row {seq} is not the one a checkpoint signed")
                return
