"""``make chaos``: every scenario on SQLite and PostgreSQL, then RELIABILITY.md.

    python -m reliability.run --output RELIABILITY.md [--quick] [--only NAME ...]
        [--database sqlite,postgresql] [--soak-minutes 30] [--soak-database postgresql]
        [--broker-storage postgres]

The disk-full scenario mounts a small filesystem (tmpfs, else a loop device), which needs root;
elsewhere it reports its fault as not injected. A scenario whose broker option is missing (the
durable ones, where the bundled tansu lacks the postgres engine) is reported blocked, with the
reason, and does not count as a failure. Exits 1 when any scenario that ran failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import sys
import tempfile
import time
from pathlib import Path

from reliability import report
from reliability.drive import Outcome
from reliability.scenarios import BY_NAME, SCENARIOS, Options, run_scenario

DATABASE_NAMES = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reliability.run", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("RELIABILITY.md"))
    parser.add_argument("--quick", action="store_true", help="shorter faults and load")
    parser.add_argument("--only", nargs="+", choices=sorted(BY_NAME), metavar="NAME")
    parser.add_argument("--database", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--soak-minutes", type=float, default=None, help="30; quick: 2")
    parser.add_argument(
        "--soak-database", default=None, help="the soak on these only (default: --database)"
    )
    parser.add_argument("--soak-rate", type=float, default=None, help="mails/s (default: half)")
    parser.add_argument("--mail-rate", type=float, default=2.0, help="mails per second")
    parser.add_argument("--send-rate", type=float, default=1.0, help="sends per second")
    parser.add_argument("--seed", type=int, default=17, help="for the random kill moments")
    parser.add_argument(
        "--broker-storage",
        default="postgres",
        help="the durable scenarios' broker storage: postgres (default) or a tansu storage URL",
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="kept: logs, databases")
    return parser


def _databases(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASE_NAMES]
    if unknown:
        raise SystemExit(f"unknown database: {', '.join(unknown)}")
    return [DATABASE_NAMES[name] for name in names]


async def main(args: argparse.Namespace, work_dir: Path) -> list[Outcome]:
    soak_minutes = args.soak_minutes or (2.0 if args.quick else 30.0)
    options = Options(
        work_dir=work_dir,
        quick=args.quick,
        mail_rate=args.mail_rate,
        send_rate=args.send_rate,
        soak_minutes=soak_minutes,
        soak_rate=args.soak_rate,
        seed=args.seed,
        durable_storage=args.broker_storage,
    )
    chosen = [BY_NAME[name] for name in args.only] if args.only else SCENARIOS
    outcomes = []
    for scenario in chosen:
        names = args.soak_database if scenario.name == "soak" and args.soak_database else None
        for database in _databases(names or args.database):
            if database not in scenario.databases:
                continue
            print(f"{scenario.name} on {database} ...", flush=True)
            outcome = await run_scenario(scenario, database, options)
            verdict = outcome.verdict
            if outcome.blocked is not None:
                verdict += f": {outcome.blocked}"
            elif outcome.failed:
                verdict += ": " + "; ".join(outcome.problems)
            print(f"{scenario.name} on {database}: {verdict}", flush=True)
            outcomes.append(outcome)
    return outcomes


def run(argv: list[str]) -> int:
    # A throwaway deployment secret; the services the suite starts inherit it.
    os.environ.setdefault("MAILMOAT_WEBHOOK_SECRET_KEY", secrets.token_urlsafe(32))
    args = _parser().parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mailmoat-chaos-") as tmp:
        work_dir = args.work_dir or Path(tmp)
        outcomes = asyncio.run(main(args, work_dir))
    command = " ".join(["python -m reliability.run", shlex.join(argv)]).strip()
    report.write(args.output, command, outcomes, (time.monotonic() - started) / 60)
    print(f"wrote {args.output}")
    blocked = sorted({o.scenario for o in outcomes if o.blocked is not None})
    if blocked:
        print(f"blocked (the broker option they need is missing): {', '.join(blocked)}")
    ran = [outcome for outcome in outcomes if outcome.blocked is None]
    return 0 if ran and not any(outcome.failed for outcome in ran) else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
