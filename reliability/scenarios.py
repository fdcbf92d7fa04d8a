"""The scenarios: each a fault (or a series of them) under steady load, on a fresh stack of its
own per database, counted by ``reliability.count``."""

from __future__ import annotations

import asyncio
import random
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tests.support.stack import ALL_SERVICES

from reliability.drive import Fault, Outcome, under_load
from reliability.faults import (
    FaultNotInjected,
    SmallDisk,
    broker_outage,
    disk_full,
    kill_service,
    postgres_outage,
    relay_fault,
    stall,
)
from reliability.harness import BrokerUnavailable, Gateway, open_gateway, own_infra
from reliability.load import LoadPlan
from reliability.relay import RelayMode
from reliability.soak import Sampler, measure_capacity

BOTH = ("sqlite", "postgresql")
STEADY_REDRIVE_ENV = {
    "MAILMOAT_REDRIVE_AFTER_SECONDS": "120",
    "MAILMOAT_REDRIVE_INTERVAL_SECONDS": "30",
}
"""The soak's redrive as deployed: no fault to recover from, and a redrive after 3 s would
publish again whatever is merely slow, adding load to a pipeline that is behind."""
SLOW_DETECTOR_ENV = {
    "MAILMOAT_VERDICT_DEADLINE_SECONDS": "5",
    "MAILMOAT_SWEEP_INTERVAL_SECONDS": "1",
}


@dataclass(frozen=True)
class Options:
    """How hard and how long: ``quick`` shortens every scenario."""

    work_dir: Path
    quick: bool = False
    mail_rate: float = 2.0
    send_rate: float = 1.0
    soak_minutes: float = 30.0
    soak_rate: float | None = None
    seed: int = 17
    durable_storage: str = "postgres"
    """The broker storage of the durable scenarios: ``postgres`` or a tansu storage URL."""

    def plan(self, seconds: float) -> LoadPlan:
        return LoadPlan(self.mail_rate, self.send_rate, seconds)

    def pick(self, full: float, quick: float) -> float:
        return quick if self.quick else full

    @property
    def settle_seconds(self) -> float:
        """Long enough for a send a killed dispatcher left mid-relay to be failed (60 s, found
        by a sweep that runs each 60 s), plus redrive and a busy machine."""
        return 200.0


Run = Callable[[Options, str, Outcome, Path], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    """A fault under load: its name, what it injects (as RELIABILITY.md says it), how it runs
    and on which databases."""

    name: str
    injects: str
    run: Run
    databases: tuple[str, ...] = BOTH
    needs: str = ""
    """Work of issue 17 it depends on, not yet in the services when this suite was written."""


async def _simple(
    options: Options,
    database: str,
    outcome: Outcome,
    work: Path,
    faults: Callable[[Gateway], list[tuple[float, Fault]]],
    seconds: float,
    env: dict[str, str] | None = None,
) -> None:
    """A fresh stack, and ``faults(gateway)`` under ``seconds`` of load."""
    async with (
        own_infra(work, postgres=database == "postgresql") as infra,
        open_gateway(infra, database, work, env=env) as gateway,
    ):
        plan = options.plan(seconds)
        await under_load(
            gateway, plan, faults(gateway), outcome, settle_seconds=options.settle_seconds
        )


async def kill_services(options: Options, database: str, outcome: Outcome, work: Path) -> None:
    rounds = 1 if options.quick else 5
    slot = options.pick(8.0, 6.0)
    draw = random.Random(options.seed)
    names = list(ALL_SERVICES) * rounds

    def faults(gateway: Gateway) -> list[tuple[float, Fault]]:
        return [
            (
                3 + n * slot + draw.uniform(0, slot / 2),
                partial(kill_service, gateway.processes, name),
            )
            for n, name in enumerate(names)
        ]

    await _simple(options, database, outcome, work, faults, 3 + len(names) * slot + 10)


def broker_restart(*, durable: bool, brokers: int) -> Run:
    async def run(options: Options, database: str, outcome: Outcome, work: Path) -> None:
        down = options.pick(15.0, 8.0) if brokers > 1 else 3.0
        storage = options.durable_storage if durable else "memory"
        outcome.notes.append(f"broker storage: {storage}")
        async with (
            own_infra(
                work, postgres=database == "postgresql", broker_storage=storage, brokers=brokers
            ) as infra,
            open_gateway(infra, database, work) as gateway,
        ):
            fault = partial(broker_outage, infra.brokers[0], gateway.settings, down)
            plan = options.plan(options.pick(60.0, 30.0))
            await under_load(
                gateway, plan, [(8.0, fault)], outcome, settle_seconds=options.settle_seconds
            )

    return run


async def postgres_down(options: Options, database: str, outcome: Outcome, work: Path) -> None:
    async with (
        own_infra(work, postgres=True) as infra,
        open_gateway(infra, database, work) as gateway,
    ):
        assert infra.postgres is not None
        fault = partial(postgres_outage, infra.postgres, options.pick(20.0, 10.0))
        plan = options.plan(options.pick(60.0, 35.0))
        await under_load(
            gateway, plan, [(8.0, fault)], outcome, settle_seconds=options.settle_seconds
        )


async def sqlite_disk_full(options: Options, database: str, outcome: Outcome, work: Path) -> None:
    disk = SmallDisk(work / "small-disk")
    await asyncio.to_thread(disk.mount)
    outcome.notes.append(f"the database lived on a 64 MB {disk.method}")
    try:
        async with (
            own_infra(work, postgres=False) as infra,
            open_gateway(infra, database, work, database_dir=disk.mount_point) as gateway,
        ):
            fault = partial(disk_full, disk, options.pick(20.0, 10.0))
            plan = options.plan(options.pick(60.0, 35.0))
            await under_load(
                gateway, plan, [(8.0, fault)], outcome, settle_seconds=options.settle_seconds
            )
    finally:
        disk.unmount()


def relay(*windows: tuple[RelayMode, float]) -> Run:
    async def run(options: Options, database: str, outcome: Outcome, work: Path) -> None:
        def faults(gateway: Gateway) -> list[tuple[float, Fault]]:
            starts = [
                6.0 + sum(seconds + 6 for _, seconds in windows[:n]) for n in range(len(windows))
            ]
            return [
                (at, partial(relay_fault, gateway.relay, mode, seconds))
                for at, (mode, seconds) in zip(starts, windows, strict=True)
            ]

        seconds = 6 + sum(s + 6 for _, s in windows) + options.pick(20.0, 8.0)
        await _simple(options, database, outcome, work, faults, seconds)

    return run


async def slow_detector(options: Options, database: str, outcome: Outcome, work: Path) -> None:
    def faults(gateway: Gateway) -> list[tuple[float, Fault]]:
        return [(6.0, partial(stall, gateway.processes, "scanner-primary", 12.0))]

    await _simple(
        options, database, outcome, work, faults, options.pick(45.0, 30.0), SLOW_DETECTOR_ENV
    )
    if outcome.tally is not None:
        decided = outcome.tally.decided_without_a_side
        outcome.notes.append(f"{decided} mails decided at the deadline without the stalled side")


async def soak(options: Options, database: str, outcome: Outcome, work: Path) -> None:
    async with (
        own_infra(work, postgres=database == "postgresql") as infra,
        open_gateway(infra, database, work, env=STEADY_REDRIVE_ENV) as gateway,
    ):
        probe = await gateway.tenant(2)
        await gateway.warm_up(probe)
        capacity = await measure_capacity(gateway, probe, mails=int(options.pick(300, 100)))
        rate = options.soak_rate or capacity / 2
        outcome.notes.append(f"capacity {capacity:.1f} mails/s; soaked at {rate:.1f} mails/s")
        plan = LoadPlan(rate, options.send_rate, options.soak_minutes * 60)
        sampler = Sampler(gateway)
        await under_load(
            gateway, plan, [], outcome, settle_seconds=options.settle_seconds, alongside=sampler.run
        )
        outcome.soak = list(sampler.series.values())
        outcome.failures += [
            f"{s.measure} of {s.owner} grew from {s.thirds()[0]:.0f} to {s.thirds()[1]:.0f}"
            for s in outcome.soak
            if s.grows
        ]


SCENARIOS = [
    Scenario(
        "kill-services",
        "kill -9 of each service in turn (5 rounds; quick: 1), each at a random moment of its "
        "slot, then started again",
        kill_services,
    ),
    Scenario(
        "broker-restart",
        "tansu (memory storage) killed with -9 and started again on the same port 3 s later, "
        "its topics made again: what was in flight is gone from the broker, so only redrive "
        "recovers it",
        broker_restart(durable=False, brokers=1),
        needs="redrive",
    ),
    Scenario(
        "broker-restart-durable",
        "tansu on PostgreSQL storage (or --broker-storage) killed with -9 and started again "
        "on the same port 3 s later: its log survives, nothing to redrive",
        broker_restart(durable=True, brokers=1),
        ("postgresql",),
        needs="a durable broker",
    ),
    Scenario(
        "broker-failover",
        "two tansu processes on one PostgreSQL storage (or --broker-storage), the bootstrap "
        "listing both; one killed with -9 for 15 s (quick: 8 s) while clients fail over, then "
        "started again",
        broker_restart(durable=True, brokers=2),
        ("postgresql",),
        needs="a durable broker",
    ),
    Scenario(
        "postgres-outage",
        "PostgreSQL stopped with pg_ctl stop -m immediate for 20 s (quick: 10 s), then started "
        "again",
        postgres_down,
        ("postgresql",),
    ),
    Scenario(
        "sqlite-disk-full",
        "the SQLite database on a 64 MB filesystem, filled to ENOSPC for 20 s (quick: 10 s), "
        "then freed",
        sqlite_disk_full,
        ("sqlite",),
    ),
    Scenario(
        "relay-refusing",
        "the relay answers 451 to every mail for 8 s, then 554 for 8 s",
        relay((RelayMode.REFUSE_TEMPORARY, 8.0), (RelayMode.REFUSE_PERMANENT, 8.0)),
    ),
    Scenario(
        "relay-tarpit",
        "the relay takes connections and never answers for 12 s (dispatch's relay timeout: 5 s)",
        relay((RelayMode.TARPIT, 12.0)),
    ),
    Scenario(
        "relay-drop",
        "the relay drops each connection in the middle of DATA for 10 s",
        relay((RelayMode.DROP_MID_DATA, 10.0)),
    ),
    Scenario(
        "slow-detector",
        "scanner-primary stopped (SIGSTOP) for 12 s, longer than the 5 s verdict deadline, then "
        "continued (SIGCONT)",
        slow_detector,
    ),
    Scenario(
        "soak",
        "no fault: half the measured capacity for --soak-minutes; memory, open files, consumer "
        "lag and unpublished outbox rows sampled every 10 s",
        soak,
    ),
]
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


async def run_scenario(scenario: Scenario, database: str, options: Options) -> Outcome:
    """One scenario on one database, in a work directory of its own; never raises."""
    outcome = Outcome(scenario.name, database)
    work = options.work_dir / f"{scenario.name}-{database}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        await scenario.run(options, database, outcome, work)
    except FaultNotInjected as exc:
        outcome.not_injected = str(exc)
    except BrokerUnavailable as exc:
        outcome.blocked = str(exc)
    except Exception as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
        (work / "error.txt").write_text(traceback.format_exc())
    return outcome
