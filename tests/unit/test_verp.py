"""The bounce address: what dispatch signs, ingest verifies, and nothing else passes."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from mailmoat.common.verp import VerpKey

SECRET = "a-deployment-secret-of-some-length"
DOMAIN = "agents.example.com"
SEND = uuid.UUID("6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")


@pytest.fixture
def key() -> VerpKey:
    return VerpKey.derive(SECRET, DOMAIN)


def test_the_address_names_the_send_and_fits_a_local_part(key: VerpKey) -> None:
    address = key.address(SEND)
    local, _, domain = address.rpartition("@")
    assert domain == DOMAIN
    assert local.startswith(f"bounces+{SEND}.")
    assert len(local) <= 64
    mac = local.rpartition(".")[2]
    assert len(mac) == 16  # 80 bits of base32
    assert mac == mac.lower()
    assert key.verify(address) == SEND


def test_the_key_is_derived_not_the_secret_itself(key: VerpKey) -> None:
    assert key.key != SECRET.encode()
    raw = hmac.new(SECRET.encode(), str(SEND).encode(), hashlib.sha256).hexdigest()
    assert raw[:16] not in key.address(SEND)


@pytest.mark.parametrize(
    "address",
    [
        "BOUNCES+{id}.{mac}@AGENTS.EXAMPLE.COM",
        "<bounces+{id}.{mac}@agents.example.com>",
        " bounces+{id}.{mac}@agents.example.com ",
    ],
)
def test_case_and_brackets_do_not_matter(key: VerpKey, address: str) -> None:
    assert key.verify(address.format(id=SEND, mac=key.mac(SEND))) == SEND


@pytest.mark.parametrize(
    "address",
    [
        "bounces+{id}.{wrong}@agents.example.com",
        "bounces+{id}@agents.example.com",
        "bounces+{id}.@agents.example.com",
        "bounces+{other}.{mac}@agents.example.com",
        "bounces+{hexid}.{mac}@agents.example.com",
        "bounces+{{{id}}}.{mac}@agents.example.com",
        "bounces+{id}.{mac}@elsewhere.example.com",
        "feedback+{id}.{mac}@agents.example.com",
        "bounces@agents.example.com",
        "bounces+{id}.{mac}ä@agents.example.com",
        "bounces+not-a-uuid.{mac}@agents.example.com",
    ],
)
def test_anything_else_is_refused(key: VerpKey, address: str) -> None:
    forged = address.format(
        id=SEND,
        hexid=SEND.hex,
        other=uuid.uuid4(),
        mac=key.mac(SEND),
        wrong="a" * 16,
    )
    assert key.verify(forged) is None


def test_another_secret_or_domain_gives_another_mac(key: VerpKey) -> None:
    other = VerpKey.derive("another-deployment-secret", DOMAIN)
    assert other.verify(key.address(SEND)) is None
    elsewhere = VerpKey.derive(SECRET, "elsewhere.example.com")
    assert elsewhere.verify(key.address(SEND)) is None


def test_the_bounce_base_is_recognised_whatever_its_tag(key: VerpKey) -> None:
    assert key.is_bounce_address(f"bounces+{SEND}.zzzz@agents.example.com")
    assert key.is_bounce_address("Bounces@Agents.Example.Com")
    assert not key.is_bounce_address("bounces@elsewhere.example.com")
    assert not key.is_bounce_address("bouncesx@agents.example.com")
