"""Kafka over TLS, as production brokers are reached: every client the services make (the
FastStream brokers, the admin client, the plain consumers) speaks TLS to a listener in front of
a real broker and trusts only the CA it is given; SASL settings become the clients' SASL."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from mailmoat.common.bus import create_broker, create_topics, kafka_client_options
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from tests.support.certs import self_signed
from tests.support.tls_proxy import TlsProxy, tls_proxy


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path, "localhost")


@pytest.fixture
def broker_behind_tls() -> Iterator[tuple[EmbeddedBroker, int]]:
    """A broker that tells clients to reach it at the TLS listener's port."""
    listener = free_port()
    broker = EmbeddedBroker(advertised=f"127.0.0.1:{listener}")
    broker.start()
    try:
        yield broker, listener
    finally:
        broker.stop()


@pytest.fixture
async def proxy(
    broker_behind_tls: tuple[EmbeddedBroker, int], certificate: tuple[Path, Path]
) -> AsyncIterator[TlsProxy]:
    broker, listener = broker_behind_tls
    async with tls_proxy(listener, (broker.host, broker.port), *certificate) as running:
        yield running


def _settings(proxy: TlsProxy, **values: object) -> CommonSettings:
    return CommonSettings(
        kafka_bootstrap=f"127.0.0.1:{proxy.port}",
        kafka_idempotence=False,
        kafka_security_protocol="SSL",
        topic_prefix="tls.",
        **values,  # type: ignore[arg-type]
    )


@pytest.mark.timeout(120)
async def test_topics_publishing_and_consuming_all_go_over_tls(
    proxy: TlsProxy, certificate: tuple[Path, Path]
) -> None:
    settings = _settings(proxy, kafka_ssl_cafile=certificate[0])
    assert await create_topics(settings, partitions=1)
    broker = create_broker(settings, client_id="tls-test")
    await broker.start()
    try:
        await broker.publish(b"over tls", settings.topic("audit"), key=b"k")
    finally:
        await broker.stop()
    consumer = AIOKafkaConsumer(
        settings.topic("audit"),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        **kafka_client_options(settings),
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == b"over tls"
    assert proxy.handshakes >= 3  # admin, producer and consumer, each through TLS


@pytest.mark.timeout(120)
async def test_a_broker_certificate_outside_the_trusted_ca_is_refused(proxy: TlsProxy) -> None:
    settings = _settings(proxy)  # the system's CAs only: the self-signed listener is not one
    with pytest.raises(Exception) as refused:  # noqa: PT011  (aiokafka wraps it variously)
        await asyncio.wait_for(create_topics(settings, partitions=1), 30)
    assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value) or proxy.handshakes == 0
    assert proxy.handshakes == 0


def test_sasl_settings_become_the_clients_sasl(certificate: tuple[Path, Path]) -> None:
    settings = CommonSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="mailmoat",
        kafka_sasl_password="s3cret-from-a-Secret",
        kafka_ssl_cafile=certificate[0],
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "mailmoat"
    assert options["sasl_plain_password"] == "s3cret-from-a-Secret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    plain = CommonSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="mailmoat",
        kafka_sasl_password="pw",
    )
    assert kafka_client_options(plain)["security_protocol"] == "SASL_PLAINTEXT"
    assert kafka_client_options(plain)["sasl_mechanism"] == "PLAIN"
    assert kafka_client_options(CommonSettings()) == {}


@pytest.mark.parametrize(
    "values",
    [
        {"kafka_security_protocol": "SASL_SSL"},
        {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "u"},
        {"kafka_ssl_certfile": "client.pem"},
    ],
    ids=["no-credentials", "no-password", "certificate-without-key"],
)
def test_incomplete_security_settings_are_refused_by_name(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match=r"SASL|certificate"):
        CommonSettings(**values)  # type: ignore[arg-type]
