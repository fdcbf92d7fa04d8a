"""The MCP server as an agent uses it, through the official SDK's client: over stdio
(``mailmoat mcp`` as a real subprocess) and over streamable HTTP (the gateway's ``/mcp``). It
lists the tools (none a person's), reads a mail as datamarked untrusted data, sees withheld mail
only as a stub, sends to an allowlisted address (the mail reaches the relay, audited as
``mcp:send``) and is told ``rejected`` in the seed's shape for an unlisted one."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from tests.support.agent_mail import INJECTION, ORDINARY, mail
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

TOOLS = {
    "list_inboxes",
    "list_messages",
    "get_message",
    "get_thread",
    "wait_for_message",
    "send",
    "reply",
    "get_send_status",
}


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured = result.structured_content
    return structured["result"] if set(structured) == {"result"} else structured


async def drive(client: Client, stack: ProcessStack, smtp_sink: SmtpSink, outbox: int) -> None:
    """What both transports must do, from one agent's side."""
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools == TOOLS  # nothing that approves, releases, reinstates or changes a setting
    assert [i["slug"] for i in await call(client, "list_inboxes")] == ["agent"]
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    waiting = asyncio.create_task(
        call(client, "wait_for_message", inbox="agent", timeout_seconds=60, since=since)
    )
    await asyncio.to_thread(mail, stack.smtp_port, "ann@example.net", ORDINARY)
    arrived = await waiting
    assert arrived["from_address"] == "ann@example.net"
    message = await call(client, "get_message", message_id=arrived["id"])
    untrusted = message["untrusted"]
    assert "outside sender" in message["note"]
    assert untrusted["marker"]
    assert untrusted["text"].replace(untrusted["marker"], " ").split()[:3] == [
        "Lunch",
        "at",
        "noon",
    ]
    assert "raw" not in message
    thread = await call(client, "get_thread", thread_id=arrived["thread_id"])
    assert [m["id"] for m in thread["messages"]] == [arrived["id"]]

    sent = await call(
        client,
        "send",
        inbox="agent",
        to=["bob@example.com"],
        subject="Figures",
        text="Sales rose by 10 percent.",
        reasoning="Ann asked for the figures.",
    )
    assert sent["status"] in ("queued", "sent")

    async def relayed() -> bool:
        return len(smtp_sink.envelopes) > outbox

    await eventually(relayed, what="the MCP send to reach the relay")
    refused = await call(
        client, "send", inbox="agent", to=["eve@example.com"], subject="Hi", text="x"
    )
    refused = await _settled(client, refused)
    assert refused["status"] == "rejected"
    assert refused["credits_consumed"] == 0
    assert refused["error"]["code"] == "policy_violation"
    answered = await call(client, "reply", inbox="agent", message_id=arrived["id"], text="Noon.")
    assert answered["status"] in ("queued", "rejected", "sent")  # ann is not allowlisted
    no_tool = await client.call_tool("approve", {"approval_id": sent["id"]})
    assert no_tool.is_error


async def _settled(client: Client, sent: dict[str, Any]) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        now = await call(client, "get_send_status", send_id=sent["id"])
        return None if now["status"] == "queued" else now

    return sent if sent["status"] != "queued" else await eventually(decided, what="a decision")


async def prepared(settings: CommonSettings, stack: ProcessStack, name: str) -> tuple[str, str]:
    """A workspace with an L3 inbox ``agent`` and bob@example.com allowlisted, out of cooldown:
    its person's key and its agent's."""
    made = await bootstrap_workspace(
        settings.database_url, name=name, plan="enterprise", agent_key=True
    )
    assert made.agent_key is not None
    auth = {"Authorization": f"Bearer {made.api_key}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=auth, timeout=10) as person:
        created = await person.post("/inboxes", json={"slug": "agent", "security_level": "L3"})
        assert created.status_code == 201, created.text
        assert (await person.post("/allowlist", json={"address": "bob@example.com"})).is_success
    await end_cooldowns(settings, "bob@example.com")
    return made.api_key, made.agent_key


async def audited_sources(stack: ProcessStack, person_key: str) -> set[str]:
    auth = {"Authorization": f"Bearer {person_key}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=auth, timeout=10) as person:
        rows = (await person.get("/audit", params={"action": "outbound.requested"})).json()
    return {row["source"] for row in rows["items"]}


async def test_an_agent_uses_the_stdio_server(
    stack: ProcessStack, settings: CommonSettings, smtp_sink: SmtpSink
) -> None:
    person_key, agent_key = await prepared(settings, stack, "mcp-stdio")
    mailmoat = shutil.which("mailmoat", path=os.path.dirname(sys.executable))
    assert mailmoat is not None
    server = StdioServerParameters(
        command=mailmoat,
        args=["mcp"],
        env={"MAILMOAT_API_URL": stack.api, "MAILMOAT_API_KEY": agent_key},
    )
    async with Client(server) as client:
        await drive(client, stack, smtp_sink, outbox=0)
    assert await audited_sources(stack, person_key) == {"mcp:send", "mcp:reply"}


async def test_an_agent_uses_the_gateways_http_endpoint(
    stack: ProcessStack, settings: CommonSettings, smtp_sink: SmtpSink
) -> None:
    person_key, agent_key = await prepared(settings, stack, "mcp-http")
    url = stack.api.removesuffix("/api/v1") + "/mcp"
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {agent_key}"}, timeout=120)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        await drive(client, stack, smtp_sink, outbox=0)
        # Withheld mail: only who sent it and why, and that a person must review it.
        await asyncio.to_thread(mail, stack.smtp_port, "mallory@example.net", INJECTION)

        async def withheld() -> list[dict[str, Any]]:
            page = await call(client, "list_messages", inbox="agent", status="withheld")
            return page["items"]

        [stub] = await eventually(withheld, what="the poisoned mail withheld")
        assert stub["subject"] is None
        assert "Ask a person to review" in stub["note"]
        shown = await call(client, "get_message", message_id=stub["id"])
        assert shown["untrusted"] is None
        assert shown["withheld_reason"]
        assert "Ask a person" in shown["note"]
    assert await audited_sources(stack, person_key) == {"mcp:send", "mcp:reply"}
