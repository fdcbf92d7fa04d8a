"""``mailmoat replay``: stored mail through a candidate detector, or stored sends through a
candidate policy, changing nothing; a report of what would have changed, as text or JSON.

An operator's command: it reads the database named by ``MAILMOAT_DATABASE_URL`` directly and
writes nothing (its transactions only read). ``--since`` takes a time (ISO 8601, UTC unless it
says) or an age (``90m``, ``36h``, ``7d``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailmoat.common.settings import CommonSettings

_AGE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def moment(text: str) -> datetime:
    """A time (aware, UTC) from ISO 8601 (UTC unless it says) or an age before now."""
    if found := _AGE.match(text):
        age = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
        return datetime.now(UTC) - age
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age (7d, 36h): {text!r}") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_command(commands: Any) -> None:
    replay = commands.add_parser(
        "replay",
        help="run stored mail through a candidate detector, or stored sends through a "
        "candidate policy, changing nothing; report what would have changed",
    )
    replay.add_argument("--since", type=moment, required=True, help="from (time or age: 7d)")
    replay.add_argument("--until", type=moment, default=None, help="until (default: now)")
    replay.add_argument("--workspace", type=uuid.UUID, help="one workspace (default: all)")
    candidate = replay.add_mutually_exclusive_group(required=True)
    candidate.add_argument(
        "--detector",
        choices=("learned", "rules", "anthropic"),
        help="a detector backend, run in place of one side (--side)",
    )
    candidate.add_argument("--policy", type=Path, help="a candidate policy file (YAML or JSON)")
    replay.add_argument(
        "--side",
        choices=("primary", "checker"),
        default="primary",
        help="the side the candidate detector replaces (default: %(default)s)",
    )
    replay.add_argument("--json", action="store_true", help="the report as one JSON document")
    replay.add_argument(
        "--show", type=int, default=20, help="changed mails or sends listed in text (default 20)"
    )


def run(settings: CommonSettings, args: argparse.Namespace) -> int:
    report = asyncio.run(_replay(settings, args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(render(report, args.show)))
    return 0


async def _replay(settings: CommonSettings, args: argparse.Namespace) -> dict[str, Any]:
    from mailmoat.common.db.session import create_engine, create_session_factory, reading

    until = args.until or datetime.now(UTC)
    window = {"since": args.since, "until": until, "workspace_id": args.workspace}
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        with reading():
            if args.detector:
                from mailmoat.scanner.backends import build_detector
                from mailmoat.scanner.replay import replay_detector
                from mailmoat.scanner.settings import ScannerSettings

                detector = build_detector(args.detector, args.side, ScannerSettings())
                found = await replay_detector(sessions, detector, args.side, **window)
                report = found.as_json()
            else:
                from mailmoat.policy.candidate import CandidatePolicy
                from mailmoat.policy.replay import replay_policy

                candidate = CandidatePolicy.load(args.policy)
                policy = await replay_policy(sessions, candidate, str(args.policy), **window)
                report = policy.as_json()
    finally:
        await engine.dispose()
    return {"since": args.since.isoformat(), "until": until.isoformat(), **report}


def render(report: dict[str, Any], show: int) -> list[str]:
    """The report as lines of text."""
    window = f"{report['since']} to {report['until']}"
    if report["kind"] == "detector":
        return _detector_lines(report, window, show)
    return _policy_lines(report, window, show)


def _detector_lines(report: dict[str, Any], window: str, show: int) -> list[str]:
    lines = [
        f"Replay of {report['mails']} stored mails ({window})",
        f"candidate detector: {report['candidate']}, in place of the {report['side']} side",
        "",
        f"newly caught: {report['newly_caught']}  (the {report['side']} side passed them)",
        *_counts(report["caught_by_rule"], "by rule"),
        f"newly passed: {report['newly_passed']}  (the {report['side']} side flagged them)",
        f"candidate failed (counted as a flag): {report['candidate_failed']}",
        "",
        "outcome (today -> candidate): mails",
        *(f"  {o['was']} -> {o['now']}: {o['mails']}" for o in report["outcomes"]),
    ]
    changed = report["changed"][:show]
    if changed:
        lines += ["", f"changed mails (first {len(changed)}):"]
        lines += [
            f"  {m['mail_id']} {m['received_at']} from {m['from']}: "
            f"{'caught' if m['flagged'] else 'passed'} (score {m['score']}"
            f"{', ' + ', '.join(m['codes']) if m['codes'] else ''}), {m['was']} -> {m['now']}"
            for m in changed
        ]
    return lines


def _policy_lines(report: dict[str, Any], window: str, show: int) -> list[str]:
    lines = [
        f"Replay of {report['sends']} stored sends ({window})",
        f"candidate policy: {report['candidate']}",
        "",
        f"changed: {report['changed']}",
        f"newly refused: {sum(report['newly_refused'].values())}",
        *_counts(report["newly_refused"], "by rule"),
        f"newly held for a person: {sum(report['newly_held'].values())}",
        *_counts(report["newly_held"], "by reason"),
        f"newly passed: {sum(report['newly_passed'].values())}",
        *_counts(report["newly_passed"], "stopped today by"),
        "",
        "outcome (today -> candidate): sends",
        *(f"  {o['baseline']} -> {o['candidate']}: {o['sends']}" for o in report["outcomes"]),
    ]
    changed = report["sends_changed"][:show]
    if changed:
        lines += ["", f"changed sends (first {len(changed)}):"]
        lines += [
            f"  {s['send_id']} {s['requested_at']} {s['inbox']} to {', '.join(s['to'])}: "
            f"{s['baseline']} -> {s['candidate']} (recorded: {s['recorded']})"
            for s in changed
        ]
    return lines


def _counts(counts: dict[str, int], heading: str) -> Iterable[str]:
    if counts:
        yield f"  {heading}:"
        yield from (f"    {name}: {count}" for name, count in counts.items())
