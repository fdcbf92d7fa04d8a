"""Settings every service shares; services extend ``CommonSettings``. Built once in ``main()``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "mailmoat-development-only-key"  # noqa: S105  (a known, refused value)
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "password", DEVELOPMENT_SECRET}
)
SECRET_ENV = "MAILMOAT_WEBHOOK_SECRET_KEY"  # noqa: S105  (a variable name)


class CommonSettings(BaseSettings):
    """Connection and runtime settings read from ``MAILMOAT_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MAILMOAT_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///.mailmoat/mailmoat.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+psycopg://...",
    )
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_idempotence: bool = Field(
        default=True, description="Idempotent producer; off for the embedded broker."
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        description=(
            "How long a consumer may go silent before its group gives its partitions to another "
            "member. The embedded broker also holds each join for half of it. Kafka refuses "
            "values under its group.min.session.timeout.ms (6 s unless changed)."
        ),
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description=(
            "Longest a consumer's fetch waits for data. Kafka answers a waiting fetch as soon as "
            "data arrives; on the embedded broker a hop can wait up to half of it, so there it "
            "bounds each hop's latency (and sets how often idle consumers poll)."
        ),
    )
    kafka_prompt_fetch_max_wait_ms: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description=(
            "The fetch wait of the consumers a caller waits on (policy's reading of send "
            "requests, the gateway's reading of its decisions), when shorter than "
            "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS; unset, the same. Only the embedded broker "
            "needs it: there a send call's two hops each wait up to half of it."
        ),
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients reach Kafka: TLS (SSL), SASL, or both."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism, with SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_username: str = Field(default="", description="SASL user name.")
    kafka_sasl_password: SecretStr = Field(
        default=SecretStr(""), description="SASL password (from a Secret in the chart)."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle that signed the brokers' certificates (TLS)."
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate, where the brokers ask for one (mTLS)."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="The client certificate's key."
    )
    mail_domain: str = Field(
        default="agents.mailmoat.localhost", description="Domain of inbox addresses."
    )
    topic_prefix: str = Field(default="", description="Prefix for every topic (test isolation).")
    group_prefix: str = Field(default="", description="Prefix for consumer group ids.")
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    consumer_batch_max: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description=(
            "Records a consumer takes from the broker at once, at most: a transactional "
            "subscriber handles them in one transaction with one commit."
        ),
    )
    handler_attempts: int = Field(
        default=3,
        ge=1,
        description="Tries of a failing handler before the record is dead-lettered.",
    )
    redrive_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="An event published this long ago and not yet taken by every consumer owed "
        "it is published again from the outbox.",
    )
    redrive_interval_seconds: float = Field(
        default=60.0, ge=0, description="How often each service redrives; 0 turns it off."
    )
    redrive_max_attempts: int = Field(
        default=5, ge=1, description="Redrives of one event before it is reported stuck."
    )
    metrics_port: int | None = Field(default=None, description="Prometheus port; none disables.")
    metrics_host: str = Field(
        default="127.0.0.1", description="Address the metrics server binds (0.0.0.0 in a pod)."
    )
    gauges_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often a service with a metrics port measures its consumer lag, outbox "
        "backlog and dependencies for /metrics.",
    )
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
    data_dir: Path = Field(default=Path(".mailmoat"), description="Local state (embedded mode).")
    webhook_secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        validate_default=True,
        description=(
            "The deployment's secret: derives per-inbox webhook signing secrets and the bounce "
            f"address MAC. Required ({SECRET_ENV}); `make run` makes one in its data directory."
        ),
    )

    audit_checkpoint_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 private key that signs the audit chain's checkpoints; unset, "
        "the key is derived from the deployment secret (`mailmoat admin audit-key` prints it).",
    )
    audit_trusted_keys: tuple[str, ...] = Field(
        default=(),
        description="More public keys (base64 of the 32 raw bytes) whose audit checkpoints "
        "count, beside this deployment's own: the keys used before a rotation.",
    )

    @field_validator("webhook_secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(f"set a real secret in {SECRET_ENV}, not a placeholder")
        return value

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> CommonSettings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"{self.kafka_security_protocol} needs MAILMOAT_KAFKA_SASL_USERNAME and "
                "MAILMOAT_KAFKA_SASL_PASSWORD"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("a Kafka client certificate needs its key, and a key its certificate")
        return self

    def fetch_max_wait_ms(self, *, prompt: bool = False) -> int:
        """A consumer's fetch wait; ``prompt``: a caller waits on what it reads."""
        if prompt and self.kafka_prompt_fetch_max_wait_ms is not None:
            return min(self.kafka_prompt_fetch_max_wait_ms, self.kafka_fetch_max_wait_ms)
        return self.kafka_fetch_max_wait_ms

    def topic(self, name: str) -> str:
        """Physical topic name for a logical topic name."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """Physical consumer group id for a logical group name."""
        return f"{self.group_prefix}{name}"


class OperatorSettings(CommonSettings):
    """What the operator's commands read that neither sign nor derive a key (``migrate``,
    ``topics``, ``replay``, ``dlq``, ``redrive``, ``admin bootstrap``, ``admin split-keys``):
    the deployment secret may be left unset, since they never use it."""

    @field_validator("webhook_secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr) -> SecretStr:
        return value  # never read by these commands, so never refused


def settings_problem(invalid: ValidationError) -> str:
    """One line naming each setting ``invalid`` refused, as its environment variable."""
    prefix = CommonSettings.model_config.get("env_prefix", "")
    parts = []
    for error in invalid.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        name = f"{prefix}{str(error['loc'][0]).upper()}" if error["loc"] else ""
        parts.append(message if name in message else f"{name}: {message}")
    return "; ".join(parts)
