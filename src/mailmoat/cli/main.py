"""Entry point of the ``mailmoat`` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

from pydantic import ValidationError

from mailmoat.cli import people
from mailmoat.cli.audit_chain import expected_checkpoint
from mailmoat.cli.replay import add_command as add_replay
from mailmoat.cli.replay import run as run_replay
from mailmoat.common.plans import PLANS
from mailmoat.common.settings import CommonSettings, OperatorSettings, settings_problem

CORE_SERVICE_NAMES = (
    "ingest",
    "scanner-primary",
    "scanner-checker",
    "scanner-consensus",
    "policy",
    "dispatch",
    "reputation",
    "gateway",
)
"""The services ``mailmoat dev`` runs, in the registry's order (a test keeps them equal)."""
SERVICE_NAMES = (*CORE_SERVICE_NAMES, "scanner-shadow")
"""What ``mailmoat run`` takes: those and the optional ones."""
KEYED_ADMIN_COMMANDS = frozenset({"audit-key", "audit-verify"})
"""The operator's commands that derive the audit checkpoint key from the deployment secret
(unless ``MAILMOAT_AUDIT_CHECKPOINT_KEY_FILE`` names the key): only these need
``MAILMOAT_WEBHOOK_SECRET_KEY``."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailmoat", description="Secure email gateway for agents."
    )
    parser.add_argument("--version", action="version", version=f"mailmoat {version('mailmoat')}")
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the whole gateway on the embedded stack")
    dev.add_argument("--data-dir", type=Path, default=Path(".mailmoat"))
    dev.add_argument("--smtp-port", type=int, default=2525)
    dev.add_argument("--api-port", type=int, default=8080)
    dev.add_argument(
        "--relay-port",
        type=int,
        default=int(os.environ.get("MAILMOAT_RELAY_PORT", "2526")),
        help="where dispatch relays: the built-in outbox listens here unless MAILMOAT_RELAY_HOST "
        "names another host",
    )
    run = commands.add_parser(
        "run", help="run one service (production style), or several in one process"
    )
    # Checked when the command runs: listing the services imports every one of them, which
    # would slow every other command down by seconds.
    run.add_argument(
        "services", nargs="+", metavar="SERVICE", help="one or more of: " + ", ".join(SERVICE_NAMES)
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("openapi", help="print the API's OpenAPI document (JSON)")
    commands.add_parser(
        "mcp",
        help="the MCP server for a local agent, over stdio (the key as for the other commands)",
    )
    topics = commands.add_parser("topics", help="create missing Kafka topics")
    topics.add_argument("--partitions", type=int, default=3)
    topics.add_argument("--replication-factor", type=int, default=1)
    dlq = commands.add_parser("dlq", help="dead letters: list, show, replay").add_subparsers(
        dest="dlq_command", required=True
    )
    listing = dlq.add_parser("list", help="dead letters as JSON lines, oldest first")
    listing.add_argument("--topic", help="logical topic name, e.g. raw-mail")
    listing.add_argument("--consumer", help="consumer group, as list prints it")
    listing.add_argument("--all", action="store_true", help="replayed letters too")
    listing.add_argument("--limit", type=int, default=100)
    dlq.add_parser("show", help="one letter: payload and headers").add_argument("id", type=int)
    replay = dlq.add_parser("replay", help="publish letters back onto their original topic")
    replay.add_argument("ids", type=int, nargs="*", metavar="ID")
    replay.add_argument("--all", action="store_true", help="every letter of --topic not replayed")
    replay.add_argument("--topic", help="with --all: the logical topic name")
    replay.add_argument("--force", action="store_true", help="replay a letter replayed before")
    replay.add_argument("--actor", help="who replays, for the audit (default: your login)")
    redrive = commands.add_parser(
        "redrive",
        help="publish again every event a consumer owed it has not taken (one pass, then exit)",
    )
    redrive.add_argument(
        "--after",
        type=float,
        default=None,
        help="only events published at least this many seconds ago (default: the setting "
        "MAILMOAT_REDRIVE_AFTER_SECONDS)",
    )
    redrive.add_argument("--producer", default=None, help="only this service's events")
    redrive.add_argument(
        "--no-backoff",
        action="store_true",
        help="every unsettled event last sent before --after, however often it was tried "
        "(for when the broker is known to have lost its log)",
    )
    redrive.add_argument(
        "--dry-run", action="store_true", help="report what would be published, publish nothing"
    )
    admin = commands.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    boot = admin.add_parser("bootstrap", help="create a workspace and print its first API key")
    boot.add_argument("--workspace", required=True)
    boot.add_argument(
        "--plan",
        default="free",
        choices=list(PLANS),
        help="the workspace's plan: %(choices)s (default: %(default)s)",
    )
    boot.add_argument(
        "--agent-key", action="store_true", help="also mint an agent's key (it may send)"
    )
    people.add_commands(commands)
    add_replay(commands)
    admin.add_parser(
        "audit-key",
        help="print the public key that signs the audit chain's checkpoints, for checking them "
        "outside the gateway",
    )
    chain = admin.add_parser(
        "audit-verify",
        help="check a workspace's audit chain in the database itself, without the gateway "
        "(JSON; exit status 1 when a link is broken)",
    )
    chain.add_argument("--workspace", required=True, type=uuid.UUID, help="the workspace's id")
    chain.add_argument(
        "--expect", type=expected_checkpoint, metavar="SEQ:SHA256", help="a checkpoint kept outside"
    )
    admin.add_parser(
        "split-keys",
        help="split keys that hold both an agent's send scope and a person's scopes",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "dev":
        from mailmoat.cli.dev import run_dev

        return run_dev(
            args.data_dir,
            smtp_port=args.smtp_port,
            api_port=args.api_port,
            relay_port=args.relay_port,
        )
    if args.command == "run":
        return _run_services(args.services)
    if args.command in people.COMMANDS:
        return people.run(args)
    if args.command == "mcp":
        return _mcp_stdio()
    if args.command == "openapi":
        from mailmoat.gateway.app import openapi_document

        print(json.dumps(openapi_document(), indent=2, sort_keys=True))
        return 0
    keyed = getattr(args, "admin_command", None) in KEYED_ADMIN_COMMANDS
    try:
        settings: CommonSettings = OperatorSettings()
        if keyed and settings.audit_checkpoint_key_file is None:
            settings = CommonSettings()
    except ValidationError as invalid:
        print(f"mailmoat: {settings_problem(invalid)}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        from mailmoat.common.db.migrate import upgrade

        upgrade(settings.database_url)
        return 0
    if args.command == "topics":
        from mailmoat.common.bus import create_topics

        created = asyncio.run(
            create_topics(
                settings, partitions=args.partitions, replication_factor=args.replication_factor
            )
        )
        print(json.dumps({"created": created}))
        return 0
    if args.command == "replay":
        return run_replay(settings, args)
    if args.command == "dlq":
        from mailmoat.cli.dlq import run_dlq

        return run_dlq(settings, args)
    if args.command == "redrive":
        return _redrive(
            settings, args.after, args.producer, backoff=not args.no_backoff, dry_run=args.dry_run
        )
    if args.admin_command == "audit-key":
        from mailmoat.common.audit_chain import key_id, public_key_text
        from mailmoat.common.audit_seal import checkpoint_key

        public = checkpoint_key(settings).public
        print(json.dumps({"key_id": key_id(public), "public_key": public_key_text(public)}))
        return 0
    if args.admin_command == "audit-verify":
        from mailmoat.cli.audit_chain import verify_database

        verdict = asyncio.run(verify_database(settings, args.workspace, args.expect))
        print(json.dumps(verdict.as_json()))
        return 0 if verdict.broken is None else 1
    if args.admin_command == "split-keys":
        return _split_keys(settings)
    return _bootstrap(settings, args.workspace, args.plan, agent_key=args.agent_key)


def _run_services(names: list[str]) -> int:
    from mailmoat.cli.registry import OPTIONAL_SERVICES, SERVICES
    from mailmoat.common.service import ServiceFailed, run_service, run_together

    known = {**SERVICES, **OPTIONAL_SERVICES}
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"mailmoat run: unknown service {unknown[0]!r}", file=sys.stderr)
        return 2
    try:
        services = [known[name].from_environment() for name in dict.fromkeys(names)]
    except ValidationError as invalid:
        print(f"mailmoat run: {settings_problem(invalid)}", file=sys.stderr)
        return 2
    if len(services) == 1:
        asyncio.run(run_service(services[0]))
        return 0
    try:
        asyncio.run(run_together(services, name="+".join(s.name for s in services)))
    except ServiceFailed as failure:
        print(f"service {failure.name} stopped: {failure.__cause__!r}", file=sys.stderr)
        return 1
    return 0


def _bootstrap(settings: CommonSettings, workspace: str, plan: str, *, agent_key: bool) -> int:
    from mailmoat.cli.bootstrap import bootstrap_workspace

    created = asyncio.run(
        bootstrap_workspace(settings.database_url, name=workspace, plan=plan, agent_key=agent_key)
    )
    print(json.dumps(dataclasses.asdict(created), default=str))
    return 0


def _split_keys(settings: CommonSettings) -> int:
    from mailmoat.cli.bootstrap import split_mixed_keys

    splits = asyncio.run(split_mixed_keys(settings.database_url))
    print(json.dumps({"split": [dataclasses.asdict(s) for s in splits]}, default=str))
    return 0


def _redrive(
    settings: CommonSettings,
    after: float | None,
    producer: str | None,
    *,
    backoff: bool,
    dry_run: bool,
) -> int:
    from datetime import timedelta

    from mailmoat.cli.redrive import redrive_now
    from mailmoat.common.events.base import utcnow

    cutoff = None if after is None else utcnow() - timedelta(seconds=after)
    report = asyncio.run(
        redrive_now(settings, cutoff=cutoff, producer=producer, backoff=backoff, dry_run=dry_run)
    )
    print(json.dumps(report.as_dict()))
    return 1 if report.stuck or report.failed else 0


def _mcp_stdio() -> int:
    from mailmoat.cli.api_config import ConfigError, load
    from mailmoat.gateway.mcp_tools import build_server, stdio_clients

    try:
        config = load()
    except ConfigError as missing:
        print(f"mailmoat mcp: {missing}", file=sys.stderr)
        return 2
    build_server(stdio_clients(config.url, config.key)).run("stdio")
    return 0
