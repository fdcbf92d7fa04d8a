"""End-to-end fixtures: the gateway as `mailmoat run` processes, and a workspace to drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from tests.support.duties import both_keys
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ProcessStack

pytestmark = pytest.mark.e2e


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def webhooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def separate_processes() -> tuple[str, ...]:
    """The services ``stack`` runs in processes of their own; a module whose tests kill one
    overrides this. The rest share one process, which starts several times faster."""
    return ()


@pytest.fixture
def stack_env() -> dict[str, str]:
    """Settings every process of ``stack`` gets besides the suite's; a module that needs more
    (a metrics port, a trace exporter) overrides this."""
    return {}


@pytest.fixture
def stack(
    settings: CommonSettings,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    separate_processes: tuple[str, ...],
    stack_env: dict[str, str],
) -> Iterator[ProcessStack]:
    processes = ProcessStack(
        settings=settings,
        log_dir=tmp_path,
        relay_port=smtp_sink.port,
        separate=separate_processes,
        extra_env=stack_env,
    )
    processes.start()
    try:
        yield processes
    finally:
        processes.stop()
        if request.node.stash.get(CALL_FAILED, False):
            print(processes.logs())  # shown with the failure: what each service said last


@pytest.fixture
async def api(stack: ProcessStack, settings: CommonSettings) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of a fresh Developer workspace: its person's key, and its agent's for sends."""
    created = await bootstrap_workspace(
        settings.database_url, name="e2e", plan="developer", agent_key=True
    )
    auth = both_keys(created.api_key, created.agent_key)
    async with httpx.AsyncClient(base_url=stack.api, auth=auth, timeout=10) as client:
        yield client
