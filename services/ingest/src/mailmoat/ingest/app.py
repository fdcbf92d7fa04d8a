"""Ingest wiring: the SMTP server as the service's task, its events through the outbox."""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP

from mailmoat.common.service import Runtime, Service
from mailmoat.ingest.settings import IngestSettings
from mailmoat.ingest.smtp import IngestHandler

log = logging.getLogger(__name__)


def build_service(settings: IngestSettings) -> Service:
    """The ingest service: an SMTP listener, no consumers."""

    async def serve_smtp(runtime: Runtime) -> None:
        handler = IngestHandler(runtime.sessions, runtime.relay.wake)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname=settings.smtp_hostname,
                data_size_limit=settings.max_message_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
            ),
            host=settings.smtp_host,
            port=settings.smtp_port,
        )
        log.info("SMTP listening on %s:%d", settings.smtp_host, settings.smtp_port)
        async with server:
            await server.serve_forever()

    return Service(name="ingest", settings=settings, tasks=[serve_smtp])
