"""One scenario's run: workspaces made, the pipeline warmed, steady load with faults injected at
set moments, the wait until every promise is kept (or the deadline), and the tally."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reliability.count import Tally, Watch, tally
from reliability.faults import FaultNotInjected, Injection
from reliability.harness import Gateway
from reliability.load import LoadPlan, SteadyLoad, Tenant
from reliability.soak import Series

Fault = Callable[[], Awaitable[Injection]]
SENDS_PER_WORKSPACE = 400
"""Under the 500 a day a workspace may send, so the workspace cap is never what stops a run."""
COLD_SENDS_PER_RECIPIENT = 4
"""Under the 5 a day per recipient: only the hot recipient is ever capped."""


@dataclass
class Outcome:
    """What one scenario on one database came to."""

    scenario: str
    database: str
    injections: list[Injection] = field(default_factory=list)
    tally: Tally | None = None
    recovery_seconds: float | None = None
    recoveries: list[float | None] = field(default_factory=list)
    """Per injection: seconds from its end until all accepted by then was terminal."""
    not_injected: str | None = None
    error: str | None = None
    blocked: str | None = None
    """Why the scenario could not be set up at all: the broker option it needs is not there."""
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Scenario-specific findings that fail it (the soak's growth)."""
    sends_must_settle: bool = True
    soak: list[Series] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = (
            []
            if self.tally is None
            else self.tally.problems(sends_must_settle=self.sends_must_settle)
        )
        if self.not_injected is not None:
            found.insert(0, f"fault not injected: {self.not_injected}")
        if self.error is not None:
            found.insert(0, f"could not run: {self.error}")
        if self.tally is not None and self.injections and self.recovery_seconds is None:
            found.append("never recovered within the deadline")
        return found + self.failures

    @property
    def passed(self) -> bool:
        return self.blocked is None and not self.problems

    @property
    def failed(self) -> bool:
        return self.blocked is None and bool(self.problems)

    @property
    def verdict(self) -> str:
        if self.blocked is not None:
            return "blocked"
        return "passed" if self.passed else "FAILED"


async def tenants_for(gateway: Gateway, plan: LoadPlan) -> list[Tenant]:
    """Enough workspaces that none reaches 500 a day, each with enough recipients that only
    its hot one reaches 5."""
    count = max(1, math.ceil(plan.planned_sends / SENDS_PER_WORKSPACE))
    cold = plan.planned_sends / count * (1 - 1 / plan.hot_every)
    recipients = 2 + math.ceil(cold / COLD_SENDS_PER_RECIPIENT)
    return [await gateway.tenant(recipients) for _ in range(count)]


async def under_load(
    gateway: Gateway,
    plan: LoadPlan,
    faults: list[tuple[float, Fault]],
    outcome: Outcome,
    *,
    settle_seconds: float,
    alongside: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> Outcome:
    """Run ``plan``'s load, each fault at its second, then wait up to ``settle_seconds`` for
    every accepted mail (and send, when ``outcome.sends_must_settle``) to be terminal.
    ``alongside`` runs for as long as the load does (the soak's sampler)."""
    began = time.monotonic()
    tenants = await tenants_for(gateway, plan)
    await gateway.warm_up(tenants[0])
    marks = [time.monotonic()]
    load = SteadyLoad(gateway.processes.smtp_port, tenants, plan)
    watch = Watch(gateway, load)
    stop_load, stop_watch = asyncio.Event(), asyncio.Event()
    loading = asyncio.gather(load.run(stop_load), *([alongside(stop_load)] if alongside else []))
    watching = asyncio.create_task(watch.run(stop_watch))
    try:
        await _inject(faults, plan.seconds, outcome)
    finally:
        stop_load.set()
        await loading
        marks.append(time.monotonic())
        try:
            await watch.settle(settle_seconds, sends=outcome.sends_must_settle)
            marks.append(time.monotonic())
        finally:
            stop_watch.set()
            await watching
            await watch.close()
    outcome.notes.append(_phases(began, marks))
    outcome.tally = await tally(gateway, load)
    outcome.recoveries = [
        watch.recovery(injection.ended, sends=outcome.sends_must_settle)
        for injection in outcome.injections
    ]
    if outcome.recoveries and None not in outcome.recoveries:
        outcome.recovery_seconds = max(r for r in outcome.recoveries if r is not None)
    return outcome


def _phases(began: float, marks: list[float]) -> str:
    """How long setting up, the load and the wait for the last promise took."""
    ready, stopped, *settled = marks
    last = f"all settled {settled[0] - stopped:.0f} s" if settled else "not all settled"
    return f"set-up {ready - began:.0f} s, load {stopped - ready:.0f} s, {last} after it stopped"


async def _inject(faults: list[tuple[float, Fault]], seconds: float, outcome: Outcome) -> None:
    started = time.monotonic()
    try:
        for at, fault in faults:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            outcome.injections.append(await fault())
    except FaultNotInjected as exc:
        outcome.not_injected = str(exc)
    await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
