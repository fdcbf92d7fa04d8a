"""Bus factory: FastStream's KafkaBroker with our producer defaults, and explicit topic creation."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import all_topic_names, topic_config

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


def create_broker(settings: CommonSettings, *, client_id: str) -> KafkaBroker:
    """Broker whose producer waits for every in-sync replica (acks=all), over TLS and SASL as
    the settings say.

    Idempotence follows the setting: on against real Kafka, off against the embedded broker,
    which does not implement idempotent producers.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        security=kafka_security(settings),
        logger=logging.getLogger(f"mailmoat.bus.{client_id}"),
    )


def kafka_security(settings: CommonSettings) -> BaseSecurity | None:
    """TLS and SASL for every client, from ``MAILMOAT_KAFKA_SECURITY_PROTOCOL`` and the rest."""
    protocol = settings.kafka_security_protocol
    tls = protocol in ("SSL", "SASL_SSL")
    context = _ssl_context(settings) if tls else None
    if not protocol.startswith("SASL"):
        return BaseSecurity(context, use_ssl=True) if tls else None
    user, password = settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return sasl[settings.kafka_sasl_mechanism](user, password, ssl_context=context, use_ssl=tls)


def kafka_client_options(settings: CommonSettings) -> dict[str, Any]:
    """The same, as keyword arguments of a plain aiokafka client (consumer, admin)."""
    security = kafka_security(settings)
    return parse_security(security) if security is not None else {}


def _ssl_context(settings: CommonSettings) -> ssl.SSLContext:
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    context = ssl.create_default_context(cafile=cafile)
    if settings.kafka_ssl_certfile and settings.kafka_ssl_keyfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


async def create_topics(
    settings: CommonSettings, *, partitions: int = 3, replication_factor: int = 1
) -> list[str]:
    """Create every topic and dead-letter topic that is missing; returns the names created."""
    topics = [
        NewTopic(
            settings.topic(name), partitions, replication_factor, topic_configs=topic_config(name)
        )
        for name in all_topic_names()
    ]
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **kafka_client_options(settings)
    )
    await admin.start()
    try:
        response = await admin.create_topics(topics)
    finally:
        await admin.close()
    created = []
    for name, code, message in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != TOPIC_ALREADY_EXISTS:
            raise RuntimeError(f"cannot create topic {name}: error {code} {message}")
    log.info("topics ready: %d created", len(created))
    return created
