"""Ingest wiring: the hardened SMTP server as the service's task, its events through the outbox."""

from __future__ import annotations

import asyncio
import logging
import ssl
from concurrent.futures import ThreadPoolExecutor

from mailmoat.common.service import Runtime, Service
from mailmoat.common.verp import VerpKey
from mailmoat.ingest.adapters.commits import GroupCommitter
from mailmoat.ingest.adapters.dns.budget import DnsAllowance
from mailmoat.ingest.adapters.dns.factory import build_resolver
from mailmoat.ingest.adapters.own_keys import load_own_keys
from mailmoat.ingest.analysis import Analyser
from mailmoat.ingest.domain.mime import MimeLimits
from mailmoat.ingest.feedback_intake import FeedbackIntake
from mailmoat.ingest.settings import IngestSettings
from mailmoat.ingest.smtp.credentials import PasswordAuthenticator
from mailmoat.ingest.smtp.handler import Acceptance, IngestHandler
from mailmoat.ingest.smtp.limits import ConnectionLimiter
from mailmoat.ingest.smtp.server import HardenedSMTP, ServerLimits
from mailmoat.ingest.smtp.tls import server_context

log = logging.getLogger(__name__)


def build_analyser(settings: IngestSettings) -> Analyser:
    """The analyser with its resolver, per-mail DNS budget and its own pool of workers."""
    return Analyser(
        resolver=build_resolver(
            settings.dns_zone_file,
            settings.dns_timeout_seconds,
            settings.dns_nameservers,
            settings.dns_port,
        ),
        authserv_id=settings.our_authserv_id,
        limits=MimeLimits(max_depth=settings.max_mime_depth),
        timeout=settings.analysis_timeout_seconds,
        dns=DnsAllowance(
            seconds=settings.our_dns_budget_seconds, max_queries=settings.dns_max_queries
        ),
        pool=ThreadPoolExecutor(settings.our_analysis_workers, thread_name_prefix="analysis"),
    )


def build_handler(
    settings: IngestSettings, runtime: Runtime, commits: GroupCommitter, analyser: Analyser
) -> IngestHandler:
    """The SMTP handler with its analyser, acceptance rules and feedback intake."""
    acceptance = Acceptance(
        domains=settings.our_domains,
        max_recipients=settings.max_recipients,
        max_header_count=settings.max_header_count,
        enforce_dmarc_reject=settings.enforce_dmarc_reject,
        reject_bare_line_endings=settings.reject_bare_line_endings,
    )
    verp = VerpKey.derive(settings.webhook_secret_key.get_secret_value(), settings.mail_domain)
    feedback = FeedbackIntake(
        settings.our_feedback_address, verp, load_own_keys(settings.dkim_keys)
    )
    return IngestHandler(commits, analyser, acceptance, feedback)


def server_limits(settings: IngestSettings) -> ServerLimits:
    return ServerLimits(
        max_message_bytes=settings.max_message_bytes,
        max_line_bytes=settings.max_line_bytes,
        max_transactions=settings.max_transactions_per_connection,
        max_recipients=settings.max_recipients,
        command_timeout=settings.command_timeout_seconds,
        data_timeout=settings.data_timeout_seconds,
        session_timeout=settings.session_timeout_seconds,
    )


def tls_context(settings: IngestSettings) -> ssl.SSLContext | None:
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    return server_context(settings.tls_cert_file, settings.tls_key_file)


def build_service(settings: IngestSettings) -> Service:
    """The ingest service: an SMTP listener, no consumers."""
    analyser = build_analyser(settings)

    async def serve_smtp(runtime: Runtime) -> None:
        committer = GroupCommitter(runtime.sessions, after_commit=runtime.relay.hand_over)
        async with committer.running() as commits:
            await _serve(build_handler(settings, runtime, commits, analyser))

    async def _serve(handler: IngestHandler) -> None:
        limits, context = server_limits(settings), tls_context(settings)
        limiter = ConnectionLimiter(settings.max_connections, settings.max_connections_per_ip)
        authenticator = (
            PasswordAuthenticator(settings.smtp_auth_users) if settings.smtp_auth_users else None
        )
        server = await asyncio.get_running_loop().create_server(
            lambda: HardenedSMTP(
                handler,
                limits=limits,
                limiter=limiter,
                hostname=settings.smtp_hostname,
                tls_context=context,
                require_tls=settings.require_tls,
                authenticator=authenticator,
            ),
            host=settings.smtp_host,
            port=settings.smtp_port,
        )
        log.info("SMTP listening on %s:%d", settings.smtp_host, settings.smtp_port)
        async with server:
            await server.serve_forever()

    return Service(name="ingest", settings=settings, tasks=[serve_smtp], on_stop=[analyser.close])
