"""The embedded mode's outbox on disk: mail dispatch relayed, kept as private files to read back.

Each message is two files named by the time it arrived and its id, so names sort by age:
``<YYYYmmddTHHMMSSffffffZ>-<id>.eml`` (the bytes as relayed) and ``.json`` (the envelope and a
few headers). Both are written to a temporary name, flushed to disk and renamed; the ``.json``
goes last and is what marks a message as stored, so a reader never sees half of one. The SMTP
sink that writes them is ``mailmoat.cli.dev_sink``; the gateway's ``/dev/outbox`` reads them.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_STAMP = "%Y%m%dT%H%M%S%fZ"
_PARSER = BytesParser(policy=policy.default)


class RelayedMail(BaseModel):
    """One message the outbox accepted: its envelope, the headers a person looks for, its size."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="The outbox's id for the message.")
    received_at: datetime = Field(description="When the outbox accepted it (aware UTC).")
    envelope_from: str = Field(description="MAIL FROM: the send's bounce address.")
    envelope_to: list[str] = Field(description="RCPT TO, in the order given.")
    header_from: str = Field(default="", description="The From header.")
    header_to: str = Field(default="", description="The To header.")
    subject: str = Field(default="", description="The Subject header.")
    date: str = Field(default="", description="The Date header, as written.")
    size: int = Field(ge=0, description="Bytes of the message as relayed.")
    outbound_id: uuid.UUID | None = Field(
        default=None, description="The send it carries (its X-Mailmoat-Outbound-Id), if any."
    )

    @property
    def stem(self) -> str:
        """The files' name without suffix."""
        return f"{self.received_at.astimezone(UTC).strftime(_STAMP)}-{self.id}"


def store_mail(
    directory: Path, raw: bytes, envelope_from: str, envelope_to: list[str], *, now: datetime
) -> RelayedMail:
    """Write one accepted message durably (message first, then its description); raises
    ``OSError`` when it could not, and then nothing counts as stored."""
    headers = _PARSER.parsebytes(raw, headersonly=True)
    mail = RelayedMail(
        id=uuid.uuid4(),
        received_at=now.astimezone(UTC),
        envelope_from=envelope_from,
        envelope_to=list(envelope_to),
        header_from=_header(headers, "From"),
        header_to=_header(headers, "To"),
        subject=_header(headers, "Subject"),
        date=_header(headers, "Date"),
        size=len(raw),
        outbound_id=_uuid(_header(headers, "X-Mailmoat-Outbound-Id")),
    )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_atomically(directory / f"{mail.stem}.eml", raw)
    _write_atomically(directory / f"{mail.stem}.json", mail.model_dump_json().encode())
    return mail


def list_mail(directory: Path) -> list[RelayedMail]:
    """Every stored message, newest first; a missing directory holds none."""
    if not directory.is_dir():
        return []
    found = (_load(path) for path in sorted(directory.glob("*.json"), reverse=True))
    return [mail for mail in found if mail is not None]


def find_mail(directory: Path, mail_id: uuid.UUID) -> RelayedMail | None:
    """The stored message with id ``mail_id``, if there is one."""
    for path in directory.glob(f"*-{mail_id}.json"):
        mail = _load(path)
        if mail is not None and mail.id == mail_id:
            return mail
    return None


def read_raw(directory: Path, mail: RelayedMail) -> bytes:
    """The message's bytes as relayed."""
    return (directory / f"{mail.stem}.eml").read_bytes()


def parse_message(raw: bytes) -> EmailMessage:
    """The message parsed with the modern email policy."""
    message = _PARSER.parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    return message


def text_body(message: EmailMessage) -> str | None:
    """The plain-text body with its lines ending in LF, if the message has one."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return None
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: the bytes, as well as they decode
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return text.replace("\r\n", "\n")


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _load(path: Path) -> RelayedMail | None:
    try:
        return RelayedMail.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None  # removed meanwhile, or not one of ours: skipped, never fatal


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)  # the rename itself, before the next file names it done


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
