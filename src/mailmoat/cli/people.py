"""The commands a person (or a script) runs against a gateway, on the SDK: inboxes, messages,
send, approvals, allowlist, keys, outbound (the kill switch), audit and tail. Tables for people,
``--json`` for scripts; a refusal is one line with its status and stable code, exit status 1."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mailmoat.cli import audit_chain, render
from mailmoat.cli.api_config import ApiConfig, ConfigError, config_path, load, save
from mailmoat_sdk import APIConnectionError, APIError, Mailmoat
from mailmoat_sdk.models import MessageOut, WithheldOut

COMMANDS = (
    "configure",
    "inboxes",
    "messages",
    "send",
    "approvals",
    "allowlist",
    "keys",
    "outbound",
    "audit",
    "tail",
)
Handler = Callable[[Mailmoat, argparse.Namespace], object]


def add_commands(commands: Any) -> None:
    """The people's subcommands, on the ``mailmoat`` parser's subparsers."""
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON, for scripts")
    c = commands.add_parser("configure", help="store the gateway's URL and your API key (0600)")
    c.add_argument("--api-url", default=None, help="default: http://127.0.0.1:8080")

    def group(name: str, text: str) -> Any:
        return commands.add_parser(name, help=text).add_subparsers(dest="action", required=True)

    inboxes = group("inboxes", "list, show, create, update and delete inboxes")
    inboxes.add_parser("list", parents=[json_flag])
    inboxes.add_parser("show", parents=[json_flag]).add_argument("slug")
    for verb in ("create", "update"):
        p = inboxes.add_parser(verb, parents=[json_flag])
        p.add_argument("slug")
        p.add_argument("--level", choices=["L1", "L2", "L3", "L4"], dest="security_level")
        p.add_argument("--webhook-url")
        p.add_argument("--daily-limit", type=int, dest="daily_send_limit")
    inboxes.add_parser("delete").add_argument("slug")

    messages = group("messages", "list, show, release and read the original of mail")
    listing = messages.add_parser("list", parents=[json_flag])
    listing.add_argument("inbox")
    listing.add_argument("--status", choices=["delivered", "review", "withheld"])
    listing.add_argument("--limit", type=int, default=50)
    show = messages.add_parser("show", parents=[json_flag])
    show.add_argument("id")
    show.add_argument("--analysis", action="store_true", help="what the pipeline found (audited)")
    messages.add_parser("release", parents=[json_flag]).add_argument("id")
    messages.add_parser("raw", help="the original message (audited)").add_argument("id")

    send = commands.add_parser("send", parents=[json_flag], help="ask to send from an inbox")
    send.add_argument("inbox")
    send.add_argument("--to", action="append", required=True, help="repeat for each recipient")
    send.add_argument("--subject", required=True)
    _body_arguments(send, required=True)
    send.add_argument("--in-reply-to")
    send.add_argument("--reasoning", help="shown to the person who reviews it")

    approvals = group("approvals", "held sends: list, show, approve (with edits), reject")
    approvals.add_parser("list", parents=[json_flag]).add_argument("--inbox")
    approvals.add_parser("show", parents=[json_flag]).add_argument("id")
    approve = approvals.add_parser("approve", parents=[json_flag])
    approve.add_argument("id")
    approve.add_argument("--subject")
    _body_arguments(approve, required=False)
    approve.add_argument("--note", help="why it was edited (audited)")
    reject = approvals.add_parser("reject", parents=[json_flag])
    reject.add_argument("id")
    reject.add_argument("--reason", required=True, help="the agent is told")

    allowlist = group("allowlist", "who may be mailed")
    allowlist.add_parser("list", parents=[json_flag])
    add = allowlist.add_parser("add", parents=[json_flag])
    add.add_argument("address")
    add.add_argument("--allow-html", action="store_true")
    allowlist.add_parser("remove").add_argument("id")

    keys = group("keys", "API keys")
    keys.add_parser("list", parents=[json_flag])
    create = keys.add_parser("create", parents=[json_flag])
    create.add_argument("name")
    create.add_argument("--scope", action="append", required=True, dest="scopes")
    keys.add_parser("revoke").add_argument("id")

    outbound = group("outbound", "the kill switch, and where a send stands")
    for verb in ("on", "off", "status"):
        outbound.add_parser(verb, parents=[json_flag])
    outbound.add_parser("show", parents=[json_flag]).add_argument("id")

    audit = commands.add_parser(
        "audit", parents=[json_flag], help="the audit log, newest first; or `verify` its chain"
    )
    audit.add_argument("action", nargs="?", choices=["verify"], help="check the hash chain")
    audit.add_argument("--expect", type=audit_chain.expected_checkpoint, metavar="SEQ:SHA256")
    audit.add_argument("--action", dest="action_filter", help="one action, e.g. outbound.sent")
    audit.add_argument("--since", type=datetime.fromisoformat)
    audit.add_argument("--limit", type=int, default=50)

    tail = commands.add_parser("tail", help="follow new mail and sends until Ctrl-C")
    tail.add_argument("inbox")
    tail.add_argument("--interval", type=float, default=2.0)


def _body_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    body = parser.add_mutually_exclusive_group(required=required)
    body.add_argument("--text")
    body.add_argument("--text-file", type=Path, help="'-' reads standard input")


def run(args: argparse.Namespace) -> int:
    """Run a people's command; 0, or 1 after one line saying what went wrong."""
    try:
        if args.command == "configure":
            return _configure(args)
        config = load()
        with Mailmoat(config.url, config.key) as client:
            handler = HANDLERS[(args.command, getattr(args, "action", None))]
            status = handler(client, args)
        return status if isinstance(status, int) else 0
    except APIError as refused:
        print(
            f"mailmoat: {refused.status} {refused.code}: {render.safe(refused.detail)}",
            file=sys.stderr,
        )
    except (ConfigError, APIConnectionError) as failed:
        print(f"mailmoat: {failed}", file=sys.stderr)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        print(f"mailmoat: invalid {field}: {first['msg']}", file=sys.stderr)
    except KeyboardInterrupt:
        return 0
    return 1


def _configure(args: argparse.Namespace) -> int:
    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not key:
        raise ConfigError("no key given")
    path = save(ApiConfig(url=args.api_url or "http://127.0.0.1:8080", key=key))
    print(f"saved to {path} (readable by you alone)")
    return 0


def _text(args: argparse.Namespace) -> str | None:
    if args.text_file is None:
        return args.text  # type: ignore[no-any-return]
    return sys.stdin.read() if str(args.text_file) == "-" else args.text_file.read_text()


def _show(args: argparse.Namespace, value: Any, pairs: list[tuple[str, object]]) -> None:
    render.as_json(value) if args.json else render.fields(pairs)


def _list(
    args: argparse.Namespace,
    items: list[Any],
    headers: list[str],
    row: Callable[[Any], list[object]],
) -> None:
    render.as_json(items) if args.json else render.table([row(i) for i in items], headers)


def _inbox(args: argparse.Namespace, inbox: Any) -> None:
    _show(
        args,
        inbox,
        [
            ("slug", inbox.slug),
            ("address", inbox.address),
            ("level", inbox.security_level),
            ("sending", inbox.sending_status),
            ("daily limit", inbox.daily_send_limit),
            ("webhook", inbox.webhook_url),
        ],
    )


def _inbox_settings(args: argparse.Namespace) -> dict[str, Any]:
    names = ("security_level", "webhook_url", "daily_send_limit")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _message_row(m: MessageOut | WithheldOut) -> list[object]:
    subject = "(withheld)" if isinstance(m, WithheldOut) else m.subject
    return [m.id, m.received_at, m.status, m.from_address, subject, m.withheld_reason or ""]


def _message(args: argparse.Namespace, m: MessageOut | WithheldOut) -> None:
    pairs: list[tuple[str, object]] = [
        ("id", m.id),
        ("status", m.status),
        ("from", m.from_address),
        ("received", m.received_at),
        ("risk", m.risk_score),
    ]
    if isinstance(m, WithheldOut):
        pairs += [("withheld", m.withheld_reason), ("note", "a person must release it to read it")]
    else:
        pairs += [("subject", m.subject), ("text", m.text or "")]
    _show(args, m, pairs)


def _outbound(args: argparse.Namespace, sent: Any) -> None:
    error = f"{sent.error['code']}: {sent.error['message']}" if sent.error else ""
    _show(
        args,
        sent,
        [
            ("id", sent.id),
            ("status", sent.status),
            ("risk", sent.risk_score),
            ("credits", sent.credits_consumed),
            ("error", error),
        ],
    )


def _approval(args: argparse.Namespace, a: Any) -> None:
    _show(
        args,
        a,
        [
            ("id", a.id),
            ("inbox", a.inbox),
            ("to", a.to),
            ("subject", a.subject),
            ("risk", f"{a.risk_score} {', '.join(a.risk_reasons)}"),
            ("held because", "; ".join(a.held_reasons)),
            ("checks passed", a.policy_checks),
            ("expires", a.expires_at),
            ("reasoning", a.reasoning or ""),
            ("text", a.text),
        ],
    )


def _switch(enabled: bool | None) -> Handler:
    def handler(client: Mailmoat, args: argparse.Namespace) -> None:
        ws = (
            client.workspace.get()
            if enabled is None
            else client.workspace.update(outbound_enabled=enabled)
        )
        _show(
            args,
            ws,
            [
                ("workspace", ws.name),
                ("outbound", "on" if ws.outbound_enabled else "OFF"),
                ("sending", ws.sending_status or "active"),
            ],
        )

    return handler


def _tail(client: Mailmoat, args: argparse.Namespace) -> None:
    """New mail and every send's outcome, one line each, as they happen."""
    seen_mail = {m.id for m in client.messages.list(args.inbox, limit=100).items}
    since = datetime.now(UTC)
    seen_audit: set[Any] = set()
    print(f"following {args.inbox} (Ctrl-C to stop)", flush=True)
    while True:
        for m in reversed(client.messages.list(args.inbox, limit=100).items):
            if m.id not in seen_mail:
                seen_mail.add(m.id)
                print(render.safe(f"mail  {' '.join(str(c) for c in _message_row(m))}"), flush=True)
        for row in reversed(client.audit.list(since=since, limit=100).items):
            if row.id not in seen_audit and row.action.startswith("outbound."):
                seen_audit.add(row.id)
                at = row.created_at.isoformat(timespec="seconds")
                print(render.safe(f"send  {at} {row.action} {row.target}"), flush=True)
        time.sleep(args.interval)


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("inboxes", "list"): lambda c, a: _list(
        a,
        list(c.inboxes.iterate()),
        ["SLUG", "ADDRESS", "LEVEL", "SENDING"],
        lambda i: [i.slug, i.address, i.security_level, i.sending_status],
    ),
    ("inboxes", "show"): lambda c, a: _inbox(a, c.inboxes.get(a.slug)),
    ("inboxes", "create"): lambda c, a: _inbox(a, c.inboxes.create(a.slug, **_inbox_settings(a))),
    ("inboxes", "update"): lambda c, a: _inbox(a, c.inboxes.update(a.slug, **_inbox_settings(a))),
    ("inboxes", "delete"): lambda c, a: c.inboxes.delete(a.slug),
    ("messages", "list"): lambda c, a: _list(
        a,
        c.messages.list(a.inbox, status=a.status, limit=a.limit).items,
        ["ID", "RECEIVED", "STATUS", "FROM", "SUBJECT", "WITHHELD"],
        _message_row,
    ),
    ("messages", "show"): lambda c, a: (
        render.as_json(c.messages.analysis(a.id))
        if a.analysis
        else _message(a, c.messages.get(a.id))
    ),
    ("messages", "release"): lambda c, a: _message(a, c.messages.release(a.id)),
    ("messages", "raw"): lambda c, a: sys.stdout.buffer.write(c.messages.raw(a.id)),
    ("send", None): lambda c, a: _outbound(
        a,
        c.send(
            a.inbox,
            to=a.to,
            subject=a.subject,
            text=_text(a) or "",
            in_reply_to=a.in_reply_to,
            reasoning=a.reasoning,
        ),
    ),
    ("approvals", "list"): lambda c, a: _list(
        a,
        list(c.approvals.iterate(inbox=a.inbox)),
        ["ID", "INBOX", "TO", "SUBJECT", "RISK", "EXPIRES"],
        lambda s: [s.id, s.inbox, s.to, s.subject, s.risk_score, s.expires_at],
    ),
    ("approvals", "show"): lambda c, a: _approval(a, c.approvals.get(a.id)),
    ("approvals", "approve"): lambda c, a: _outbound(
        a,
        c.approvals.approve(
            a.id,
            **{
                k: v
                for k, v in {"subject": a.subject, "text": _text(a), "note": a.note}.items()
                if v is not None
            },
        ),
    ),
    ("approvals", "reject"): lambda c, a: _outbound(a, c.approvals.reject(a.id, a.reason)),
    ("allowlist", "list"): lambda c, a: _list(
        a,
        list(c.allowlist.iterate()),
        ["ID", "ADDRESS", "HTML", "ACTIVE FROM"],
        lambda e: [e.id, e.address, "yes" if e.allow_html else "no", e.active_from],
    ),
    ("allowlist", "add"): lambda c, a: _show(
        a,
        e := c.allowlist.add(a.address, allow_html=a.allow_html),
        [("id", e.id), ("address", e.address), ("active from", e.active_from)],
    ),
    ("allowlist", "remove"): lambda c, a: c.allowlist.remove(a.id),
    ("keys", "list"): lambda c, a: _list(
        a,
        list(c.keys.iterate()),
        ["ID", "NAME", "PREFIX", "SCOPES", "LAST USED"],
        lambda k: [k.id, k.name, k.prefix, k.scopes, k.last_used_at or "never"],
    ),
    ("keys", "create"): lambda c, a: _show(
        a,
        k := c.keys.create(a.name, a.scopes),
        [
            ("id", k.id),
            ("scopes", k.scopes),
            ("token", k.token),
            ("note", "the token is shown only now"),
        ],
    ),
    ("keys", "revoke"): lambda c, a: c.keys.revoke(a.id),
    ("outbound", "on"): _switch(True),
    ("outbound", "off"): _switch(False),
    ("outbound", "status"): _switch(None),
    ("outbound", "show"): lambda c, a: _outbound(a, c.outbound.get(a.id)),
    ("audit", None): lambda c, a: _list(
        a,
        c.audit.list(action=a.action_filter, since=a.since, limit=a.limit).items,
        ["TIME", "ACTION", "ACTOR", "SOURCE", "TARGET"],
        lambda r: [r.created_at, r.action, r.actor, r.source, r.target],
    ),
    ("audit", "verify"): audit_chain.verify,
    ("tail", None): _tail,
}

__all__ = ["COMMANDS", "add_commands", "config_path", "run"]
