"""A few seconds of the fault-injection suite (``make chaos``, in ``reliability/``) for every
``make test``, on SQLite and PostgreSQL: under load, a relay dropping connections mid-DATA, then
kill -9 of dispatch and of ingest. Nothing accepted
is lost, nothing is sent twice, the caps hold, and each fault is shown to have happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WORKSPACE_DAILY_CAP
from reliability.drive import Outcome, under_load
from reliability.faults import kill_service, relay_fault
from reliability.harness import Gateway, Infra, open_gateway
from reliability.load import LoadPlan
from reliability.relay import RelayMode
from reliability.report import row
from tests.conftest import DATABASES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SETTLE_SECONDS = 90.0


@pytest.fixture(scope="module", params=DATABASES)
async def gateway(
    request: pytest.FixtureRequest, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """The whole gateway as processes, shared by this file's tests on one database."""
    database = str(request.param)
    admin_url = request.getfixturevalue("postgres_admin_url") if database != "sqlite" else ""
    work: Path = tmp_path_factory.mktemp(f"chaos-{database}")
    async with open_gateway(Infra(kafka_bootstrap, admin_url), database, work) as running:
        yield running


def assert_kept_promises(outcome: Outcome) -> None:
    print(row(outcome), *outcome.notes, sep="\n")  # shown with a failure
    tally = outcome.tally
    assert tally is not None
    assert tally.mails_in > 0
    assert tally.mails_lost == 0
    assert tally.mails_not_terminal == 0
    assert tally.mails_duplicated == 0
    assert tally.sends_in > 0
    assert tally.sends_duplicated == 0
    assert tally.sends_sent_never_relayed == 0
    assert tally.most_to_one_recipient <= RECIPIENT_DAILY_CAP
    assert tally.most_reserved_for_one_recipient <= RECIPIENT_DAILY_CAP
    assert tally.most_reserved_for_one_workspace <= WORKSPACE_DAILY_CAP
    assert tally.cap_refusals >= 1  # the hot recipient was asked for more than 5


async def test_relay_dropping_then_dispatch_and_ingest_killed_under_load(gateway: Gateway) -> None:
    # A send a dispatcher was killed in the middle of is failed only after 60 s at the
    # earliest (never retried): the full suite waits for it, this one does not.
    outcome = Outcome("relay drops, kill -9 dispatch, ingest", gateway.database)
    outcome.sends_must_settle = False
    stack = gateway.processes
    faults = [
        (1.0, lambda: relay_fault(gateway.relay, RelayMode.DROP_MID_DATA, 3.0)),
        (5.0, lambda: kill_service(stack, "dispatch")),
        (6.5, lambda: kill_service(stack, "ingest")),
    ]
    plan = LoadPlan(mail_rate=3.0, send_rate=2.0, seconds=9.0, hot_every=2)
    await under_load(gateway, plan, faults, outcome, settle_seconds=SETTLE_SECONDS)

    assert [i.fault.split(" ")[:2] for i in outcome.injections] == [
        ["relay", "drop-mid-data"],
        ["kill", "-9"],
        ["kill", "-9"],
    ], outcome.problems
    assert "dropped mid-DATA" in outcome.injections[0].evidence
    assert "SIGKILL" in outcome.injections[1].evidence
    assert "refused connections" in outcome.injections[2].evidence
    assert_kept_promises(outcome)
    assert outcome.tally is not None
    assert outcome.tally.sends_failed >= 1  # what met the dropping relay failed, saying why
    assert outcome.problems == []
