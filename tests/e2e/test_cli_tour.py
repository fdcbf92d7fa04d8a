"""The README's tour done with the ``mailmoat`` command alone (real subprocesses, the keys from
the environment or a private config file): an inbox, mail withheld and released, a send refused
off the allowlist, one after the cooldown, one approved with an edit at L4 (never by the agent),
the kill switch, the audit log, ``tail``, and errors as one line with the code. Text from mail
reaches the terminal without its control characters."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from tests.support.agent_mail import INJECTION, ORDINARY, mail
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

MAILMOAT = str(Path(sys.executable).with_name("mailmoat"))
ESCAPES = (
    b"From: eve@example.net\r\nTo: agent@agents.mailmoat.localhost\r\n"
    b"Subject: =?utf-8?q?Hi_=1B]0;pwned=07=1B[2J_there_=E2=80=AEgnp.exe?=\r\n\r\nhello\r\n"
)


class Cli:
    """``mailmoat`` run as a person would, with one key in its environment."""

    def __init__(self, api: str, key: str, home: Path) -> None:
        self.env = {
            **os.environ,
            "MAILMOAT_API_URL": api,
            "MAILMOAT_API_KEY": key,
            "MAILMOAT_CONFIG": str(home / "none.json"),
        }

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [MAILMOAT, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert (done.returncode == 0) is ok, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    async def ajson(self, *args: str) -> Any:
        return await asyncio.to_thread(self.json, *args)


async def test_the_tour_with_the_command_line(
    stack: ProcessStack, settings: CommonSettings, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    made = await bootstrap_workspace(
        settings.database_url, name="cli", plan="enterprise", agent_key=True
    )
    assert made.agent_key is not None
    person = Cli(stack.api, made.api_key, tmp_path)
    agent = Cli(stack.api, made.agent_key, tmp_path)

    inbox = await person.ajson("inboxes", "create", "agent", "--level", "L3")
    assert inbox["address"] == "agent@agents.mailmoat.localhost"
    for sender, body in (("ann@example.net", ORDINARY), ("mallory@example.net", INJECTION)):
        await asyncio.to_thread(mail, stack.smtp_port, sender, body)

    async def statuses() -> dict[str, str] | None:
        items = await agent.ajson("messages", "list", "agent")
        found = {m["from_address"]: m["status"] for m in items}
        return found if len(found) == 2 else None

    assert await eventually(statuses, what="both mails") == {
        "ann@example.net": "delivered",
        "mallory@example.net": "withheld",
    }
    listing = agent.run("messages", "list", "agent").stdout
    assert "(withheld)" in listing
    assert "Ignore all previous" not in listing
    withheld = next(
        m for m in await agent.ajson("messages", "list", "agent") if m["status"] == "withheld"
    )
    stub = agent.run("messages", "show", withheld["id"]).stdout
    assert "a person must release it" in stub
    assert "passwords" not in stub
    analysis = await person.ajson("messages", "show", withheld["id"], "--analysis")
    assert all(v["flagged"] for v in analysis["verdicts"])
    refused = agent.run("messages", "release", withheld["id"], ok=False)
    assert refused.stderr.startswith("mailmoat: 403 self_approval: ")
    assert (await person.ajson("messages", "release", withheld["id"]))["status"] == "delivered"

    # Sending: off the allowlist, in the cooldown, then through.
    rejected = await agent.ajson(
        "send", "agent", "--to", "eve@example.com", "--subject", "Hi", "--text", "Hello"
    )
    assert (rejected["status"], rejected["credits_consumed"]) == ("rejected", 0)
    assert rejected["error"]["code"] == "policy_violation"
    await person.ajson("allowlist", "add", "ana@example.org")
    early = await agent.ajson(
        "send", "agent", "--to", "ana@example.org", "--subject", "Hi", "--text", "Hi"
    )
    assert await _final(agent, early) == ("rejected", "recipient_cooldown")
    await end_cooldowns(settings, "ana@example.org")
    reply = await agent.ajson(
        "send",
        "agent",
        "--to",
        "ana@example.org",
        "--subject",
        "Re: Lunch",
        "--text",
        "See you at noon.",
    )
    assert await _final(agent, reply) == ("sent", None)

    # L4: a person approves, with an edit; the agent's key never can.
    await person.ajson("inboxes", "update", "agent", "--level", "L4")
    held = await agent.ajson(
        "send", "agent", "--to", "ana@example.org", "--subject", "Menu", "--text", "Soup."
    )
    [approval] = await eventually(lambda: person.ajson("approvals", "list"), what="the approval")
    assert approval["outbound_id"] == held["id"]
    assert "Soup." in person.run("approvals", "show", approval["id"]).stdout
    denied = agent.run("approvals", "approve", approval["id"], ok=False)
    assert denied.stderr.startswith("mailmoat: 403 ")
    await person.ajson(
        "approvals", "approve", approval["id"], "--text", "Soup and bread.", "--note", "more"
    )
    assert await _final(agent, held) == ("sent", None)
    assert b"Soup and bread." in (smtp_sink.envelopes[-1].original_content or b"")

    # The kill switch.
    assert (await person.ajson("outbound", "off"))["outbound_enabled"] is False
    stopped = await agent.ajson(
        "send", "agent", "--to", "ana@example.org", "--subject", "x", "--text", "y"
    )
    assert await _final(agent, stopped) == ("rejected", "capability_disabled")
    assert "outbound   on\n" in person.run("outbound", "on").stdout

    actions = {row["action"] for row in await person.ajson("audit", "--limit", "100")}
    assert {"message.released", "outbound.edited_and_approved", "outbound.sent"} <= actions
    assert (
        person.run("inboxes", "show", "nope", ok=False).stderr
        == "mailmoat: 404 not_found: Inbox 'nope' not found\n"
    )

    # tail follows new mail and sends; a subject's escape sequences never reach the terminal.
    with subprocess.Popen(
        [MAILMOAT, "tail", "agent", "--interval", "0.2"],
        env=person.env,
        stdout=subprocess.PIPE,
        text=True,
    ) as follow:
        assert follow.stdout is not None
        lines = follow.stdout
        try:
            assert lines.readline().startswith("following agent")
            await asyncio.to_thread(mail, stack.smtp_port, "eve@example.net", ESCAPES)
            line = await asyncio.wait_for(asyncio.to_thread(lines.readline), timeout=60)
            assert line.startswith("mail  ")
            assert "eve@example.net" in line
            assert "\x1b" not in line
            assert "\x07" not in line
            assert "\u202e" not in line
            await agent.ajson(
                "send", "agent", "--to", "ana@example.org", "--subject", "Hi", "--text", "x"
            )
            line = await asyncio.wait_for(asyncio.to_thread(lines.readline), timeout=60)
            assert line.startswith("send  ")
            assert "outbound.requested ana@example.org" in line
        finally:
            follow.terminate()
    assert "\x1b" not in person.run("messages", "list", "agent").stdout


async def _final(cli: Cli, send: dict[str, Any]) -> tuple[str, str | None]:
    async def decided() -> dict[str, Any] | None:
        now = await cli.ajson("outbound", "show", send["id"])
        return None if now["status"] in ("queued", "requested", "pending_approval") else now

    final = await eventually(decided, what=f"send {send['id']} decided")
    return final["status"], (final["error"] or {}).get("code")


def test_the_key_file_must_be_private(tmp_path: Path) -> None:
    config = tmp_path / "mailmoat" / "config.json"
    env = {**os.environ, "MAILMOAT_CONFIG": str(config)}
    env.pop("MAILMOAT_API_KEY", None)
    saved = subprocess.run(
        [MAILMOAT, "configure", "--api-url", "http://127.0.0.1:9"],
        input="mm_abc_def\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "readable by you alone" in saved.stdout
    assert config.stat().st_mode & 0o777 == 0o600
    assert json.loads(config.read_text()) == {
        "api_url": "http://127.0.0.1:9",
        "api_key": "mm_abc_def",
    }
    unreachable = subprocess.run(
        [MAILMOAT, "inboxes", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("mailmoat: ")
    config.chmod(0o644)
    exposed = subprocess.run(
        [MAILMOAT, "inboxes", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert exposed.returncode == 1
    assert "can be read by others (mode 0644)" in exposed.stderr
