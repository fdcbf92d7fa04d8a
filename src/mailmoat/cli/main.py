"""Entry point of the ``mailmoat`` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from pathlib import Path

from mailmoat.common.settings import CommonSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailmoat", description="Secure email gateway for agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the whole gateway on the embedded stack")
    dev.add_argument("--data-dir", type=Path, default=Path(".mailmoat"))
    dev.add_argument("--smtp-port", type=int, default=2525)
    dev.add_argument("--api-port", type=int, default=8080)
    run = commands.add_parser("run", help="run one service (production style)")
    run.add_argument("service", choices=_service_names())
    commands.add_parser("migrate", help="bring the database schema up to date")
    topics = commands.add_parser("topics", help="create missing Kafka topics")
    topics.add_argument("--partitions", type=int, default=3)
    topics.add_argument("--replication-factor", type=int, default=1)
    admin = commands.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    boot = admin.add_parser("bootstrap", help="create a workspace and print its first API key")
    boot.add_argument("--workspace", required=True)
    boot.add_argument("--plan", default="free")
    boot.add_argument(
        "--agent-key", action="store_true", help="also mint an agent's key (it may send)"
    )
    admin.add_parser(
        "split-keys",
        help="split keys that hold both an agent's send scope and a person's scopes",
    )
    return parser


def _service_names() -> list[str]:
    from mailmoat.cli.registry import OPTIONAL_SERVICES, SERVICES

    return [*SERVICES, *OPTIONAL_SERVICES]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "dev":
        from mailmoat.cli.dev import run_dev

        return run_dev(args.data_dir, smtp_port=args.smtp_port, api_port=args.api_port)
    if args.command == "run":
        return _run_service(args.service)
    settings = CommonSettings()
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
    if args.admin_command == "split-keys":
        return _split_keys(settings)
    return _bootstrap(settings, args.workspace, args.plan, agent_key=args.agent_key)


def _run_service(name: str) -> int:
    from mailmoat.cli.registry import OPTIONAL_SERVICES, SERVICES
    from mailmoat.common.service import run_service

    spec = SERVICES.get(name) or OPTIONAL_SERVICES[name]
    asyncio.run(run_service(spec.from_environment()))
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
