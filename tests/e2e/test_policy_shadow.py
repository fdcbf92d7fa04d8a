"""Policy's shadow: a candidate policy judged beside the live one on every send, recorded in
the decision's audit row and counted, never deciding."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from tests.support.adversary import counter
from tests.support.allowlist import end_cooldowns
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

CANDIDATE = 'inboxes:\n  "*": {blocked_keywords: [refund]}\n'


@pytest.fixture
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    candidate = tmp_path_factory.mktemp("shadow") / "candidate.yaml"
    candidate.write_text(CANDIDATE)
    return {
        "MAILMOAT_POLICY_SHADOW_FILE": str(candidate),
        "MAILMOAT_METRICS_PORT": str(free_port()),
    }


async def test_the_shadow_policy_is_recorded_and_never_decides(
    stack: ProcessStack, api: httpx.AsyncClient, settings: CommonSettings
) -> None:
    made = await api.post("/inboxes", json={"slug": "agent", "security_level": "L3"})
    assert made.status_code == 201, made.text
    assert (await api.post("/allowlist", json={"address": "bob@example.com"})).status_code == 201
    await end_cooldowns(settings)
    sends = {}
    for subject in ("Refund", "Lunch"):
        asked = await api.post(
            "/inboxes/agent/send",
            json={"to": ["bob@example.com"], "subject": subject, "text": f"{subject} on Friday."},
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "queued", asked.text  # the shadow never decides
        sends[subject] = asked.json()["id"]

    audit = await api.get("/audit", params={"action": "outbound.queued", "limit": 50})
    shadows = {row["detail"]["send_id"]: row["detail"]["shadow"] for row in audit.json()["items"]}
    assert shadows[sends["Refund"]] == {"outcome": "refused:policy_violation", "agrees": False}
    assert shadows[sends["Lunch"]] == {"outcome": "approved", "agrees": True}
    port = stack.extra_env["MAILMOAT_METRICS_PORT"]
    name = "mailmoat_policy_shadow_decisions_total"

    async def counted() -> bool:  # counted as each decision commits, so maybe just after
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        pairs = ("refused", "approved")
        return all(counter(metrics, name, live="approved", shadow=s) == 1 for s in pairs)

    await eventually(counted, timeout=10, what="each send's shadow outcome counted once")


def test_a_shadow_file_that_is_not_a_policy_stops_policy_at_start(tmp_path: Path) -> None:
    from mailmoat.policy.app import build_service
    from mailmoat.policy.settings import PolicySettings

    bad = tmp_path / "candidate.yaml"
    bad.write_text("inboxes:\n  agent: {security_level: L9}\n")
    with pytest.raises(ValueError, match="security_level"):
        build_service(PolicySettings(policy_shadow_file=bad, webhook_secret_key="x" * 40))
