"""One tenant's webhook endpoints must never stall another's: a workspace fills its quota of
endpoints with a tarpit that accepts connections and never answers, and another workspace's
webhooks and audit stream still arrive while the tarpit holds its connections. Also: the
quota itself, a retry signed at its own time under the same id, and an inbox secret read once
and rotated."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from mailmoat.cli.bootstrap import bootstrap_workspace
from tests.support.adversary import Adversary
from tests.support.attack_mails import mime
from tests.support.peers import Delivery
from tests.support.tarpit import Tarpit
from tests.support.waiting import eventually

ENDPOINT_CAP = 10  # the default of MAILMOAT_WEBHOOK_MAX_ENDPOINTS
TARPIT_MAILS = 3
BYSTANDER_MAILS = 5
WAIT_SECONDS = 60  # generous, and far below how long the tarpit holds a connection


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    with Tarpit() as pit:
        yield pit


@contextlib.asynccontextmanager
async def workspace(adversary: Adversary, name: str) -> AsyncIterator[Adversary]:
    """A workspace of its own, driven like the adversary's (one key for person and agent)."""
    made = await bootstrap_workspace(adversary.database_url, name=name, plan="developer")
    headers = {"authorization": f"Bearer {made.api_key}"}
    async with httpx.AsyncClient(
        base_url=adversary.stack.api, headers=headers, timeout=30
    ) as client:
        yield dataclasses.replace(adversary, person=client, agent=client, sender=client)


async def endpoint(tenant: Adversary, url: str, kind: str = "message") -> httpx.Response:
    return await tenant.person.post("/webhooks", json={"url": url, "kind": kind})


def ordinary(n: int) -> bytes:
    body = f"The minutes of meeting {n} are attached below.\r\n"
    return mime(f"Subject: minutes {n}\r\n", body, sender="ann@corp.example")


async def inbox_to(tenant: Adversary, base: str) -> str:
    """A new inbox whose webhooks go to ``{base}/{slug}``; returns its slug."""
    slug = f"iso-{uuid.uuid4().hex[:10]}"
    made = await tenant.person.post(
        "/inboxes", json={"slug": slug, "security_level": "L2", "webhook_url": f"{base}/{slug}"}
    )
    assert made.status_code == 201, made.text
    return slug


async def test_a_tarpit_tenant_never_delays_another_tenants_webhooks(
    adversary: Adversary, tarpit: Tarpit
) -> None:
    async with workspace(adversary, "tarpit") as mallory, workspace(adversary, "ann") as ann:
        trapped = await inbox_to(mallory, tarpit.url_for("/inbox"))
        for n in range(ENDPOINT_CAP):
            kind = "message" if n % 2 == 0 else "audit"
            made = await endpoint(mallory, tarpit.url_for(f"/{kind}/{n}"), kind)
            assert made.status_code == 201, made.text
        for n in range(TARPIT_MAILS):
            await mallory.send(trapped, ordinary(n), mail_from="ann@corp.example")

        async def engaged() -> bool:
            return tarpit.accepted >= 1

        await eventually(engaged, timeout=WAIT_SECONDS, what="the tarpit engaged")

        # The bystander's audit endpoint and inbox webhook, and mail for it, behind the tarpit.
        audit_path = f"/audit/{uuid.uuid4().hex}"
        made = await endpoint(ann, adversary.webhooks.url_for(audit_path), "audit")
        assert made.status_code == 201, made.text
        slug = await inbox_to(ann, adversary.webhooks.url_for("/hook"))
        hook_path = f"/hook/{slug}"
        for n in range(BYSTANDER_MAILS):
            await ann.send(slug, ordinary(n), mail_from="ann@corp.example")
        stored = await ann.stored(slug, count=BYSTANDER_MAILS, timeout=WAIT_SECONDS)

        async def all_hooked() -> bool:
            seen = "".join(d.body.decode() for d in adversary.webhooks.at(hook_path))
            return all(m["id"] in seen for m in stored)

        await eventually(all_hooked, timeout=WAIT_SECONDS, what="the bystander's webhooks")
        await eventually(
            lambda: _arrived(adversary.webhooks.at(audit_path)),
            timeout=WAIT_SECONDS,
            what="the bystander's audit stream",
        )
        # B's webhooks came through while A's deliveries were still caught in the tarpit.
        assert tarpit.holding >= 1


async def _arrived(deliveries: list[Delivery]) -> bool:
    return bool(deliveries)


async def test_a_workspace_may_hold_only_so_many_endpoints(adversary: Adversary) -> None:
    async with workspace(adversary, "hoarder") as hoarder:
        for n in range(ENDPOINT_CAP):
            made = await endpoint(hoarder, adversary.webhooks.url_for(f"/hoard/{n}"))
            assert made.status_code == 201, made.text
        refused = await endpoint(hoarder, adversary.webhooks.url_for("/hoard/one-more"))
        assert refused.status_code in (409, 422), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "too_many_endpoints"
        listed = await hoarder.person.get("/webhooks")
        assert len(listed.json()["items"]) == ENDPOINT_CAP
        # Room made by deleting one is room again.
        gone = await hoarder.person.delete(f"/webhooks/{listed.json()['items'][0]['id']}")
        assert gone.status_code == 204
        again = await endpoint(hoarder, adversary.webhooks.url_for("/hoard/again"))
        assert again.status_code == 201, again.text


async def test_a_retry_is_signed_at_its_own_time_under_the_same_id(
    adversary: Adversary,
) -> None:
    async with workspace(adversary, "retried") as tenant:
        path = f"/retry/{uuid.uuid4().hex}"
        adversary.webhooks.answers[path] = [500, 204]
        made = await endpoint(tenant, adversary.webhooks.url_for(path))
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        slug = await inbox_to(tenant, adversary.webhooks.url_for("/quiet"))
        await tenant.send(slug, ordinary(1), mail_from="ann@corp.example")

        async def retried() -> tuple[Delivery, Delivery] | None:
            tries = adversary.webhooks.at(path)
            return (tries[0], tries[1]) if len(tries) >= 2 else None

        first, second = await eventually(retried, timeout=WAIT_SECONDS, what="the retry")
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        assert second.body == first.body
        # The schedule's first step is 5 s: the retry's timestamp is its own, not the event's.
        first_at = int(first.headers["webhook-timestamp"])
        second_at = int(second.headers["webhook-timestamp"])
        assert second_at >= first_at + 4, (first_at, second_at)
        payload = Webhook(secret).verify(second.body, second.headers)
        assert payload["type"] == "message.received"


async def test_an_inbox_secret_is_shown_once_and_rotates(adversary: Adversary) -> None:
    async with workspace(adversary, "rotating") as tenant:
        slug = await inbox_to(tenant, adversary.webhooks.url_for("/rotated"))
        path = f"/rotated/{slug}"
        shown = await tenant.person.get(f"/inboxes/{slug}/webhook-secret")
        assert shown.status_code == 200, shown.text
        old = shown.json()["secret"]
        assert old.startswith("whsec_")
        again = await tenant.person.get(f"/inboxes/{slug}/webhook-secret")
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "secret_already_shown"

        key = {"Idempotency-Key": uuid.uuid4().hex}
        rotated = await tenant.person.post(f"/inboxes/{slug}/webhook-secret", headers=key)
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new.startswith("whsec_")
        assert new != old
        replayed = await tenant.person.post(f"/inboxes/{slug}/webhook-secret", headers=key)
        assert replayed.headers.get("idempotent-replayed") == "true"
        assert "secret" not in replayed.json()
        audit = await tenant.person.get("/audit", params={"action": "webhook.secret_rotated"})
        assert [a["target"] for a in audit.json()["items"]] == [f"inbox:{slug}"]

        await tenant.send(slug, ordinary(2), mail_from="ann@corp.example")
        [message] = await tenant.stored(slug, count=1, timeout=WAIT_SECONDS)

        async def delivered() -> Delivery | None:
            found = [d for d in adversary.webhooks.at(path) if message["id"] in d.body.decode()]
            return found[0] if found else None

        delivery = await eventually(delivered, timeout=WAIT_SECONDS, what="the delivery")
        Webhook(new).verify(delivery.body, delivery.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(delivery.body, delivery.headers)


async def test_an_audit_endpoint_hears_only_the_actions_it_subscribed_to(
    adversary: Adversary,
) -> None:
    path = f"/audit-filter/{uuid.uuid4().hex}"
    made = await adversary.person.post(
        "/webhooks",
        json={"url": adversary.webhooks.url_for(path), "kind": "audit", "events": ["api_key.*"]},
    )
    assert made.status_code == 201, made.text
    minted = await adversary.person.post("/keys", json={"name": "tmp", "scopes": ["read:mail"]})
    assert minted.status_code == 201, minted.text
    allowed = await adversary.person.post("/allowlist", json={"address": "x@filter.example"})
    assert allowed.status_code in (200, 201), allowed.text
    revoked = await adversary.person.delete(f"/keys/{minted.json()['id']}")
    assert revoked.status_code == 204

    def heard() -> list[str]:
        return [d.json()["data"]["action"] for d in adversary.webhooks.at(path)]

    async def both() -> list[str] | None:
        actions = heard()
        return actions if {"api_key.created", "api_key.revoked"} <= set(actions) else None

    await eventually(both, timeout=WAIT_SECONDS, what="the key's audit events")
    assert all(action.startswith("api_key.") for action in heard()), heard()
