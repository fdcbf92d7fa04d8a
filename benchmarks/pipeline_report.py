"""The pipeline bench's results and their Markdown tables: the measures beside the baseline,
and the CPU each process spends per stored mail."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.pipeline_stack import BROKER, DETECTORS, ONE_PROCESS, POSTGRES, SERVICES
from benchmarks.smtp_load import LoadResult


@dataclass(frozen=True)
class DatabaseRun:
    """What one database's run measured."""

    database: str
    load: LoadResult
    stored_seconds: float
    """From the first send to the last mail of the phase stored."""
    drain_seconds: float
    graph_lag_seconds: float
    window_seconds: float
    """From the first send to the sender graph counting the last mail: the CPU's window."""
    cpu: dict[str, float]
    """CPU seconds each process used over that window."""
    database_work: dict[str, dict[str, float]]
    """Each service's statements by kind, and ``commits``, over that window."""
    rest: dict[str, float]
    """Each process's CPU at rest, in cores (1.0: one core busy)."""
    paced_rate: float
    paced_sent: int
    paced_latencies: list[list[float]]
    """Per paced phase, seconds from each mail's 250 to its row being seen."""
    webhook_latencies: list[list[float]]
    """Per paced phase, seconds from each mail's 250 to its webhook reaching the receiver."""
    errors: int

    @property
    def stored_per_second(self) -> float:
        return self.load.accepted / self.stored_seconds

    @property
    def cpu_ms_total(self) -> float:
        return sum(self.cpu.values()) * 1000 / self.load.accepted

    def cpu_ms(self, name: str) -> float:
        """CPU milliseconds per stored mail of process ``name``."""
        return self.cpu.get(name, 0.0) * 1000 / self.load.accepted


@dataclass(frozen=True)
class PipelineResults:
    count: int
    baseline: LoadResult
    baseline_cpu: float
    """CPU seconds the discard server used to accept ``count`` mails."""
    runs: dict[str, DatabaseRun | str]
    """Each database's run, or why it was not made."""


TITLES = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "one-process": "SQLite, every service in one process (make run)",
}


def phases_ms(phases: list[list[float]]) -> str:
    """The median of the phases' p50s and p95s in ms, the p95s' range, and how many mails were
    seen in all; n/a where a phase has too few values."""
    seen = sum(len(phase) for phase in phases)
    if not phases or any(len(phase) < 2 for phase in phases):
        return f"n/a; {seen}"
    p50s = [statistics.quantiles(phase, n=20)[9] * 1000 for phase in phases]
    p95s = [statistics.quantiles(phase, n=20)[18] * 1000 for phase in phases]
    return (
        f"{statistics.median(p50s):.0f} / {statistics.median(p95s):.0f} "
        f"(p95s {min(p95s):.0f}-{max(p95s):.0f}); {seen}"
    )


def summary_rows(results: PipelineResults) -> list[str]:
    base = results.baseline
    runs = list(results.runs.values())

    def row(label: str, baseline_cell: str, cell: Callable[[DatabaseRun], str]) -> str:
        cells = [cell(r) if isinstance(r, DatabaseRun) else "n/a" for r in runs]
        return f"| {label} | {baseline_cell} | {' | '.join(cells)} |"

    def of_base(rate: float) -> str:
        return f"{rate:.1f} ({rate / base.per_second:.3f} of baseline)"

    base_cpu_ms = results.baseline_cpu * 1000 / base.accepted
    return [
        "| measure | baseline (discard) | " + " | ".join(TITLES[d] for d in results.runs) + " |",
        "|---" * (2 + len(runs)) + "|",
        row(
            "SMTP transactions accepted per second",
            f"{base.per_second:.0f}",
            lambda r: of_base(r.load.per_second),
        ),
        row(
            "SMTP latency, end of DATA to the 250, p50 / p95 (ms)",
            f"{base.p50_ms:.1f} / {base.p95_ms:.1f}",
            lambda r: f"{r.load.p50_ms:.1f} / {r.load.p95_ms:.1f}",
        ),
        row(
            "Mails stored for the agent per second (SMTP to API-visible)",
            f"{base.per_second:.0f} (accepted; nothing stored)",
            lambda r: of_base(r.stored_per_second),
        ),
        row(
            "Seconds from the last 250 to the last mail stored",
            "n/a",
            lambda r: f"{r.drain_seconds:.2f}",
        ),
        row(
            "Seconds from the last mail stored to the consensus's sender graph counting it "
            "(reputation -> sender-graph -> consensus)",
            "n/a",
            lambda r: f"{r.graph_lag_seconds:.2f}",
        ),
        row(
            "Paced at half that storage rate: offered rate (/s), mails in each phase, phases",
            "n/a",
            lambda r: f"{r.paced_rate:.1f}, {r.paced_sent}, {len(r.paced_latencies)}",
        ),
        row(
            "Paced: SMTP 250 to the row visible, p50 / p95 (ms), median of the phases; mails seen",
            "n/a",
            lambda r: phases_ms(r.paced_latencies),
        ),
        row(
            "Paced: SMTP 250 to the message.received webhook delivered, p50 / p95 (ms), median "
            "of the phases; webhooks received",
            "n/a",
            lambda r: phases_ms(r.webhook_latencies),
        ),
        row(
            "CPU per stored mail, every process together (ms)",
            f"{base_cpu_ms:.2f}",
            lambda r: f"{r.cpu_ms_total:.1f}",
        ),
        row(
            "Cores busy over the sustained phase (CPU s / wall s)",
            f"{results.baseline_cpu / base.seconds:.2f}",
            lambda r: f"{sum(r.cpu.values()) / r.window_seconds:.2f}",
        ),
        row("Errors and tracebacks in the services' logs", "n/a", lambda r: str(r.errors)),
    ]


def cpu_rows(results: PipelineResults) -> list[str]:
    """One table per database: each process's and group's CPU per stored mail, its share, its
    CPU at rest, and what it spent per mail beyond its rest rate."""
    others = [n for n in SERVICES if n not in DETECTORS]
    total = "**total**"
    groups: list[tuple[str, list[str]]] = [
        *[(name, [name]) for name in SERVICES],
        (f"**detectors** ({' + '.join(DETECTORS)})", list(DETECTORS)),
        ("**the other services**", others),
        (BROKER, [BROKER]),
        (POSTGRES, [POSTGRES]),
        (total, [*SERVICES, BROKER, POSTGRES]),
    ]
    base_ms = results.baseline_cpu * 1000 / results.baseline.accepted
    lines: list[str] = []
    for database, run in results.runs.items():
        if not isinstance(run, DatabaseRun):
            continue
        lines += [
            f"{TITLES[database]}:",
            "",
            "| process | ms/mail | share | at rest (% of a core) | ms/mail beyond its rest "
            "rate | baseline (discard) ms/mail |",
            "|---|---|---|---|---|---|",
        ]
        together = ONE_PROCESS in run.cpu
        rows = [(ONE_PROCESS, [ONE_PROCESS]), (BROKER, [BROKER]), (total, [ONE_PROCESS, BROKER])]
        for label, names in rows if together else groups:
            if label == POSTGRES and POSTGRES not in run.cpu:
                continue
            ms = sum(run.cpu_ms(name) for name in names)
            rest = sum(run.rest.get(name, 0.0) for name in names)
            beyond = ms - rest * run.window_seconds * 1000 / run.load.accepted
            base_cell = f"{base_ms:.2f}" if label == total else ""
            lines.append(
                f"| {label} | {ms:.1f} | {ms / run.cpu_ms_total:.0%} | {rest:.0%} | "
                f"{beyond:.1f} | {base_cell} |"
            )
        lines.append("")
    return lines[:-1]


STATEMENT_KINDS = ("select", "insert", "update", "delete", "other")


def database_rows(results: PipelineResults) -> list[str]:
    """One table per database: each service's statements by kind and commits, per stored
    mail."""
    lines: list[str] = []
    for database, run in results.runs.items():
        if not isinstance(run, DatabaseRun):
            continue
        mails = run.load.accepted
        kinds = " | ".join(STATEMENT_KINDS)
        lines += [
            f"{TITLES[database]}:",
            "",
            f"| service | {kinds} | statements | commits |",
            "|---" + "|---:" * (len(STATEMENT_KINDS) + 2) + "|",
        ]
        totals = dict.fromkeys((*STATEMENT_KINDS, "commits"), 0.0)
        for service in SERVICES:
            counts = run.database_work.get(service, {})
            for kind in totals:
                totals[kind] += counts.get(kind, 0.0)
            lines.append(_work_row(service, counts, mails))
        lines += [_work_row("**total**", totals, mails), ""]
    return lines[:-1]


def _work_row(name: str, counts: dict[str, float], mails: int) -> str:
    cells = [f"{counts.get(kind, 0.0) / mails:.1f}" for kind in STATEMENT_KINDS]
    statements = sum(counts.get(kind, 0.0) for kind in STATEMENT_KINDS) / mails
    commits = counts.get("commits", 0.0) / mails
    return f"| {name} | {' | '.join(cells)} | {statements:.1f} | {commits:.2f} |"
