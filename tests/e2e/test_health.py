"""Every service process answers Kubernetes' probes on its metrics port: ``/healthz/live`` while its
event loop runs, ``/healthz/ready`` once its database and broker answer and its consumer groups
hold their assignments; and it stops cleanly on SIGTERM, well within a pod's grace period."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

GRACE_SECONDS = 30  # the chart's terminationGracePeriodSeconds


def _stack(settings: CommonSettings, tmp_path: Path, **env: str) -> tuple[ProcessStack, str]:
    port = free_port()
    stack = ProcessStack(
        settings=settings,
        log_dir=tmp_path,
        relay_port=free_port(),
        extra_env={"MAILMOAT_METRICS_PORT": str(port), **env},
    )
    return stack, f"http://127.0.0.1:{port}"


async def _answer(url: str) -> httpx.Response | None:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(url)
    except httpx.TransportError:
        return None


@pytest.mark.timeout(240)
async def test_a_service_is_live_then_ready_and_stops_cleanly_on_sigterm(
    settings: CommonSettings, tmp_path: Path
) -> None:
    stack, ops = _stack(settings, tmp_path)
    stack.start("policy")
    try:
        live = await eventually(lambda: _answer(f"{ops}/healthz/live"), what="the live probe")
        assert live.status_code == 200, live.text
        assert live.json() == {"status": "live"}

        async def ready() -> httpx.Response | None:
            answer = await _answer(f"{ops}/healthz/ready")
            return answer if answer is not None and answer.status_code == 200 else None

        answered = await eventually(ready, timeout=120, what="readiness")
        assert answered.json() == {"status": "ready", "services": {"policy": "ready"}}
        metrics = await _answer(f"{ops}/metrics")
        assert metrics is not None
        assert 'mailmoat_service_up{service="policy"} 1.0' in metrics.text
        missing = await _answer(f"{ops}/nothing")
        assert missing is not None
        assert missing.status_code == 404

        process = stack.processes["policy"]
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=GRACE_SECONDS) == 0, stack.logs()
        assert time.monotonic() - began < GRACE_SECONDS
        log = (tmp_path / "policy.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]
    finally:
        stack.stop()


@pytest.mark.timeout(240)
async def test_a_service_whose_database_is_unreachable_is_live_but_not_ready(
    settings: CommonSettings, tmp_path: Path
) -> None:
    nowhere = f"postgresql+psycopg://mailmoat@127.0.0.1:{free_port()}/mailmoat"
    stack, ops = _stack(settings, tmp_path, MAILMOAT_DATABASE_URL=nowhere)
    stack.start("policy")
    try:
        # The consumer groups join first; then the database is asked, and does not answer.
        answer = await eventually(
            lambda: _database_verdict(ops), timeout=120, what="the database check"
        )
        assert answer.status_code == 503
        assert answer.json()["status"] == "not ready"
        assert answer.json()["services"]["policy"].startswith("database unreachable")
        live = await _answer(f"{ops}/healthz/live")
        assert live is not None
        assert live.status_code == 200
    finally:
        stack.stop()


async def _database_verdict(ops: str) -> httpx.Response | None:
    answer = await _answer(f"{ops}/healthz/ready")
    if answer is None or "database" not in answer.text:
        return None
    return answer
