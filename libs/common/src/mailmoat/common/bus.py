"""Bus factory: FastStream's KafkaBroker with our producer defaults, and explicit topic creation."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import all_topic_names, topic_config

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


def create_broker(settings: CommonSettings, *, client_id: str) -> KafkaBroker:
    """Broker whose producer waits for every in-sync replica (acks=all).

    Idempotence follows the setting: on against real Kafka, off against the embedded broker,
    which does not implement idempotent producers.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        logger=logging.getLogger(f"mailmoat.bus.{client_id}"),
    )


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
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
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
