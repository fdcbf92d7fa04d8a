"""RELIABILITY.md: the command, the machine, each scenario and its figures per database."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from reliability.count import Tally
from reliability.drive import Outcome
from reliability.scenarios import BY_NAME

COUNTING = """\
Each scenario runs on a fresh stack per database: tansu, the database, every service as its own
process (`mailmoat run <service>`), a relay that can be told to refuse, tarpit or drop, and a
webhook receiver. Steady load runs throughout: mail over SMTP (one connection per mail, never
retried; a unique token in its Message-ID and subject) and Send API calls with the agent's key
(a unique `Idempotency-Key` each, asked again under the same key until answered), to workspaces
sized so that only each one's "hot" recipient reaches its 5 a day. Faults come at set moments;
after the load stops the suite waits up to 200 s for every promise to be kept, then counts:

- **mails in**: answered 250. **stored**: one `messages` row for the token; **duplicated**: more
  than one. **lost**: no raw message at all. **not terminal**: raw message kept, never stored.
- **sends in**: answered 2xx. **sent**: tokens the relay answered 250 (distinct);
  **duplicated**: a token the relay took twice. **failed** / **rejected**: settled with a reason
  (counted below); **not settled**: still `approved` or `sending` at the deadline.
- **caps**: the most mails the relay took for one recipient, and the most live ledger slots
  held for one recipient and one workspace (limits 5 and 500).
- **webhooks**: an event delivered under two different `webhook-id`s is a duplicate (a retry
  keeps its id: at-least-once is documented and allowed).
- **recovery**: seconds from the end of a fault until everything accepted by then was terminal
  (the longest over the scenario's faults).

A scenario fails when an accepted mail is lost, not terminal or duplicated, a send is relayed
twice or never settles, a cap is exceeded, a webhook event is duplicated, or its fault could not
be shown to have happened.
"""

HEADER = (
    "| scenario | database | result | mails in | stored | lost | not terminal | dup | "
    "sends in | sent | dup | failed | rejected | not settled | caps (rcpt / ws) | "
    "recovery s |"
)


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB memory"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def row(outcome: Outcome) -> str:
    verdict = {"passed": "pass", "blocked": "blocked", "FAILED": "**FAIL**"}[outcome.verdict]
    t = outcome.tally
    recovery = "-" if outcome.recovery_seconds is None else f"{outcome.recovery_seconds:.1f}"
    if t is None:
        return f"| {outcome.scenario} | {outcome.database} | {verdict} |" + " - |" * 13
    figures = (
        t.mails_in,
        t.mails_stored,
        t.mails_lost,
        t.mails_not_terminal,
        t.mails_duplicated,
        t.sends_in,
        t.sends_sent,
        t.sends_duplicated,
        t.sends_failed,
        t.sends_rejected,
        t.sends_not_terminal,
        f"{t.most_to_one_recipient}/{t.most_reserved_for_one_recipient} / "
        f"{t.most_reserved_for_one_workspace}",
        recovery,
    )
    cells = " | ".join(str(figure) for figure in figures)
    return f"| {outcome.scenario} | {outcome.database} | {verdict} | {cells} |"


def details(outcome: Outcome) -> list[str]:
    lines = [f"**{outcome.database}**: {outcome.verdict}", ""]
    if outcome.blocked is not None:
        return [*lines, f"- blocked: {outcome.blocked}", ""]
    for injection, recovery in zip(outcome.injections, _padded(outcome), strict=True):
        after = "never settled" if recovery is None else f"settled {recovery:.1f} s after"
        lines.append(f"- injected: {injection.fault} ({injection.evidence}); {after}")
    lines += [f"- problem: {problem}" for problem in outcome.problems]
    lines += [f"- note: {note}" for note in outcome.notes]
    if outcome.tally is not None:
        lines += _tally_lines(outcome.tally)
    if outcome.soak:
        lines += ["", "| measure | process / group | first third | last third | grows |"]
        lines += ["|---|---|---|---|---|"]
        for series in sorted(outcome.soak, key=lambda s: (s.measure, s.owner)):
            first, last = series.thirds()
            grows = "**yes**" if series.grows else "no"
            lines.append(
                f"| {series.measure} | {series.owner} | {first:.1f} | {last:.1f} | {grows} |"
            )
    return [*lines, ""]


def _padded(outcome: Outcome) -> list[float | None]:
    missing = len(outcome.injections) - len(outcome.recoveries)
    return [*outcome.recoveries, *[None] * missing]


def _tally_lines(t: Tally) -> list[str]:
    lines = [
        f"- mails refused by ingest: {t.mails_refused}, unanswered: {t.mails_unanswered}, "
        f"stored though unacknowledged: {t.mails_stored_unacknowledged}, decided without a "
        f"detector side: {t.decided_without_a_side}",
        f"- sends refused by the API: {t.sends_refused}; refused for the cap: "
        f"{t.cap_refusals}; relayed but recorded failed: {t.sends_relayed_but_failed}; "
        f"webhook deliveries: {t.webhook_deliveries}",
    ]
    lines += [f"- {count} x {reason}" for reason, count in t.failure_reasons.most_common(8)]
    return lines


def write(path: Path, command: str, outcomes: list[Outcome], minutes: float) -> None:
    names = list(dict.fromkeys(outcome.scenario for outcome in outcomes))
    lines = [
        "# Reliability",
        "",
        f"Produced by `{command}` in {minutes:.0f} minutes.",
        f"Machine: {machine()}.",
        "",
        "## How it counts",
        "",
        COUNTING,
        "## Figures",
        "",
        HEADER,
        "|" + "---|" * 16,
        *[row(outcome) for outcome in outcomes],
        "",
        "## Scenarios",
        "",
    ]
    for name in names:
        scenario = BY_NAME[name]
        needs = f" Needs: {scenario.needs}." if scenario.needs else ""
        lines += [f"### {name}", "", f"Injects: {scenario.injects}.{needs}", ""]
        for outcome in outcomes:
            if outcome.scenario == name:
                lines += details(outcome)
    path.write_text("\n".join(lines))
