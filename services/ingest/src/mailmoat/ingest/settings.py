"""Ingest settings: where the SMTP server listens, what it accepts, and how it authenticates."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from mailmoat.common.dkim_keys import DKIM_KEYS_DESCRIPTION, DkimKeySetting
from mailmoat.common.settings import CommonSettings


class IngestSettings(CommonSettings):
    """SMTP listener, limits, TLS, DNS and authentication settings (``MAILMOAT_*``)."""

    smtp_host: str = Field(default="127.0.0.1", description="Address the SMTP server binds.")
    smtp_port: int = Field(default=2525, description="Port the SMTP server binds.")
    smtp_hostname: str = Field(default="mx.mailmoat.localhost", description="Name in the banner.")
    authserv_id: str = Field(
        default="", description="authserv-id in Authentication-Results; defaults to the hostname."
    )
    accepted_domains: tuple[str, ...] = Field(
        default=(), description="Domains we receive mail for; empty means just mail_domain."
    )
    feedback_address: str = Field(
        default="", description="Where ARF/DSN reports arrive; defaults to feedback@mail_domain."
    )
    dkim_keys: dict[str, DkimKeySetting] = Field(
        default_factory=dict,
        description=f"The keys dispatch signs with (a complaint must carry our signature). "
        f"{DKIM_KEYS_DESCRIPTION}",
    )

    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0, description="SIZE limit.")
    max_recipients: int = Field(default=50, gt=0, description="RCPT commands per message.")
    max_line_bytes: int = Field(default=4096, ge=1001, description="Longest DATA line (CRLF in).")
    max_header_count: int = Field(default=500, gt=0, description="Header fields per message.")
    max_mime_depth: int = Field(default=20, gt=0, description="Deepest MIME nesting parsed.")
    max_connections: int = Field(default=200, gt=0, description="Concurrent SMTP connections.")
    max_connections_per_ip: int = Field(default=10, gt=0, description="Concurrent per client IP.")
    max_transactions_per_connection: int = Field(
        default=100, gt=0, description="MAILs per session."
    )
    command_timeout_seconds: float = Field(default=60.0, gt=0, description="Idle time allowed.")
    data_timeout_seconds: float = Field(default=300.0, gt=0, description="Whole DATA transfer.")
    session_timeout_seconds: float = Field(default=1800.0, gt=0, description="Whole connection.")
    reject_bare_line_endings: bool = Field(
        default=True, description="Refuse DATA with bare CR/LF or NUL (SMTP smuggling defence)."
    )
    enforce_dmarc_reject: bool = Field(
        default=True, description="Answer 550 when the From domain's DMARC policy says reject."
    )
    analysis_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Parsing, authentication and checks of one message."
    )
    analysis_workers: int | None = Field(
        default=None,
        gt=0,
        description="Threads analysing mail; more than max_connections_per_ip, so that one "
        "client cannot hold them all. Default: 16, or one more than max_connections_per_ip.",
    )

    tls_cert_file: Path | None = Field(default=None, description="PEM certificate for STARTTLS.")
    tls_key_file: Path | None = Field(default=None, description="PEM private key for STARTTLS.")
    require_tls: bool = Field(default=False, description="Refuse MAIL before STARTTLS.")
    smtp_auth_users: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Optional AUTH (after TLS only): user name -> scrypt hash from hash_password.",
    )

    dns_zone_file: Path | None = Field(
        default=None, description="Serve DNS from this zone file (air-gapped deployments, tests)."
    )
    dns_nameservers: tuple[str, ...] = Field(
        default=(), description="Resolvers to ask; empty means the system's."
    )
    dns_port: int = Field(default=53, gt=0, lt=65536, description="Port of dns_nameservers.")
    dns_timeout_seconds: float = Field(default=3.0, gt=0, description="Per DNS query.")
    dns_budget_seconds: float | None = Field(
        default=None,
        gt=0,
        description="All DNS of one message, under analysis_timeout_seconds; default two thirds "
        "of it. A message that runs out is quarantined (analysis_failed).",
    )
    dns_max_queries: int = Field(
        default=200,
        gt=0,
        description="DNS queries one message may cause (SPF within RFC 7208's limits: about 110).",
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> IngestSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.smtp_auth_users and self.tls_cert_file is None:
            raise ValueError("smtp_auth_users needs TLS: AUTH is only offered after STARTTLS")
        if self.require_tls and self.tls_cert_file is None:
            raise ValueError("require_tls needs tls_cert_file and tls_key_file")
        return self

    @model_validator(mode="after")
    def _analysis_bounds(self) -> IngestSettings:
        if self.our_dns_budget_seconds >= self.analysis_timeout_seconds:
            raise ValueError("dns_budget_seconds must be less than analysis_timeout_seconds")
        if self.our_analysis_workers <= self.max_connections_per_ip:
            raise ValueError("analysis_workers must be more than max_connections_per_ip")
        return self

    @property
    def our_authserv_id(self) -> str:
        return self.authserv_id or self.smtp_hostname

    @property
    def our_analysis_workers(self) -> int:
        if self.analysis_workers is not None:
            return self.analysis_workers
        return max(16, self.max_connections_per_ip + 1)

    @property
    def our_dns_budget_seconds(self) -> float:
        # Two thirds leaves the rest of the deadline to parsing, checks and signature crypto.
        if self.dns_budget_seconds is not None:
            return self.dns_budget_seconds
        return self.analysis_timeout_seconds * 2 / 3

    @property
    def our_domains(self) -> tuple[str, ...]:
        domains = self.accepted_domains or (self.mail_domain,)
        return tuple(d.lower() for d in domains)

    @property
    def our_feedback_address(self) -> str:
        return (self.feedback_address or f"feedback@{self.mail_domain}").lower()
