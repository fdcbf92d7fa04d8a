"""JSON log lines with the service name and, while an event is handled, its mail and event id."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_mail_id: ContextVar[str | None] = ContextVar("mail_id", default=None)
_event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
_service: ContextVar[str | None] = ContextVar("service", default=None)


def set_log_service(name: str) -> None:
    """Name the service on every log line of the current task and the tasks it starts, where
    several services share one process (``mailmoat dev``)."""
    _service.set(name)


def current_service() -> str | None:
    """The service the current task runs for, if one was named."""
    return _service.get()


@contextmanager
def log_context(*, mail_id: object = None, event_id: object = None) -> Iterator[None]:
    """Tag every log line inside the block with the given mail and event ids."""
    mail_token = _mail_id.set(str(mail_id) if mail_id else None)
    event_token = _event_id.set(str(event_id) if event_id else None)
    try:
        yield
    finally:
        _mail_id.reset(mail_token)
        _event_id.reset(event_token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, ids, exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": _service.get() or self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in (("mail_id", _mail_id), ("event_id", _event_id)):
            if (value := var.get()) is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, *, level: str = "INFO", json_lines: bool = True) -> None:
    """Route all logging to stderr, as JSON lines unless ``json_lines`` is off."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(_TextFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faststream", "kafka", "uvicorn.access", "httpx", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _TextFormatter(logging.Formatter):
    """``time service LEVEL message``, the service being the task's own where several share."""

    def __init__(self, service: str) -> None:
        super().__init__("%(asctime)s %(service)s %(levelname)s %(message)s")
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        record.service = _service.get() or self.service
        return super().format(record)
