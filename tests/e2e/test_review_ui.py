"""The reviewer's web UI in headless Chromium (Debian's, driven by Playwright): sign-in refuses
an agent's key; a person approves a held send with an edit (the diff shown first, the edited
mail reaching the relay), rejects one (the agent reads the reason), reads a withheld mail's
findings and its original, releases it, and flips the kill switch. Every XSS vector of the
external corpora, in subjects, bodies, the agent's reasoning and an original message, renders
as inert text: no dialog, no script, no CSP report. Forged posts and sessions are attacked in
tests/adversarial/test_review_surfaces.py."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.async_api import Page
from sqlalchemy import update

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.settings import CommonSettings
from tests.support.agent_mail import INJECTION, mail
from tests.support.allowlist import end_cooldowns
from tests.support.browser import chromium
from tests.support.external import xss_suites
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "review-queue.png"
SUBJECT_ROOM = 900


async def press(page: Page, role: Literal["button", "link"], name: str) -> None:
    """Press a form's button or follow a link, and wait for the page it leads to: the review
    pages have no script, so every press is a navigation, and reading the page before it has
    arrived reads the one being left (or nothing)."""
    async with page.expect_navigation():
        await page.get_by_role(role, name=name).click()


@pytest.fixture
def stack_env() -> dict[str, str]:
    return {"MAILMOAT_API_RATE_PER_MINUTE": "100000"}


class Workspace:
    """A workspace with an L4 inbox ``agent``: the person's and the agent's API clients."""

    def __init__(self, stack: ProcessStack, person: str, agent: str) -> None:
        self.ui = stack.api.removesuffix("/api/v1") + "/ui"
        self.person_key, self.agent_key = person, agent
        self.person = httpx.AsyncClient(base_url=stack.api, headers=_bearer(person), timeout=30)
        self.agent = httpx.AsyncClient(base_url=stack.api, headers=_bearer(agent), timeout=30)

    async def send(self, to: str, subject: str, text: str, reasoning: str) -> str:
        body = {"to": [to], "subject": subject, "text": text, "metadata": {"reasoning": reasoning}}
        answer = await self.agent.post("/inboxes/agent/send", json=body)
        assert answer.status_code in (200, 202), answer.text
        return str(answer.json()["id"])

    async def outbound(self, outbound_id: str) -> dict[str, Any]:
        return (await self.agent.get(f"/outbound/{outbound_id}")).json()  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.person.aclose()
        await self.agent.aclose()


async def workspace(
    stack: ProcessStack, settings: CommonSettings, recipients: list[str]
) -> Workspace:
    made = await bootstrap_workspace(
        settings.database_url, name="ui", plan="enterprise", agent_key=True
    )
    assert made.agent_key is not None
    ws = Workspace(stack, made.api_key, made.agent_key)
    created = await ws.person.post("/inboxes", json={"slug": "agent", "security_level": "L4"})
    assert created.status_code == 201, created.text
    for address in recipients:
        assert (await ws.person.post("/allowlist", json={"address": address})).is_success
    await end_cooldowns(settings)
    return ws


async def sign_in(page: Page, ws: Workspace, key: str) -> None:
    await page.goto(ws.ui)
    assert page.url.endswith("/ui/login")
    await page.get_by_label("API key").fill(key)
    await press(page, "button", "Sign in")


async def held(ws: Workspace, outbound_id: str) -> str:
    async def listed() -> str | None:
        items = (await ws.person.get("/approvals", params={"limit": 200})).json()["items"]
        found = next((a["id"] for a in items if a["outbound_id"] == outbound_id), None)
        if found is None:
            assert (await ws.outbound(outbound_id))["status"] in ("queued", "requested"), (
                outbound_id
            )
        return found

    return await eventually(listed, what="the held send")


async def rewrite_draft(settings: CommonSettings, outbound_id: str, text: str) -> None:
    """Change a held draft behind the gateway's back."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as db:
            changed = OutboundMessage.id == uuid.UUID(outbound_id)
            await db.execute(update(OutboundMessage).where(changed).values(text=text))
    finally:
        await engine.dispose()


async def test_a_reviewer_decides_in_the_browser(
    stack: ProcessStack, settings: CommonSettings, smtp_sink: SmtpSink
) -> None:
    ws = await workspace(stack, settings, ["bob@example.com"])
    try:
        figures = await ws.send(
            "bob@example.com", "Figures", "Sales rose by 10 percent.\n", "Ann asked."
        )
        deal = await ws.send("bob@example.com", "Deal", "Half price for you.", "Closing the sale.")
        later = await ws.send("bob@example.com", "Later", "Left for last.", "Kept waiting.")
        await held(ws, figures)
        deal_approval = await held(ws, deal)
        later_approval = await held(ws, later)
        async with chromium() as browser:
            page = await browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: dialogs.append(d.message))
            await sign_in(page, ws, ws.agent_key)
            assert "an agent's key never reviews" in await page.content()
            await sign_in(page, ws, ws.person_key)
            assert page.url.endswith("/ui/approvals")
            cookie = next(c for c in await page.context.cookies() if c["name"] == "mailmoat_ui")
            assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
            assert await page.get_by_role("link", name="Figures").count() == 1
            assert await page.get_by_role("link", name="Later").count() == 1
            await page.screenshot(path=str(_screenshot()), full_page=True)

            # Approve with an edit: the diff first, then the edited mail leaves.
            await press(page, "link", "Figures")
            assert "Ann asked." in await page.locator("pre").nth(0).inner_text()
            await page.get_by_label("Text", exact=True).fill("Sales rose by 12 percent.\n")
            await page.get_by_label("Why you edit it").fill("corrected figure")
            await press(page, "button", "Review the edit")
            diff = await page.locator("#diff").inner_text()
            assert "-Sales rose by 10 percent." in diff
            assert "+Sales rose by 12 percent." in diff
            await press(page, "button", "Approve with this edit")
            assert "Done: approved" in await page.content()

            async def relayed() -> bool:
                return any(
                    b"Sales rose by 12 percent." in (e.original_content or b"")
                    for e in smtp_sink.envelopes
                )

            await eventually(relayed, what="the edited mail at the relay")

            # The draft changes while its page is open: approving what was shown is refused.
            await page.goto(f"{ws.ui}/approvals/{deal_approval}")
            await rewrite_draft(settings, deal, "Half price; pay into my own account.")
            await press(page, "button", "Approve as it is")
            assert "draft_changed" in await page.content()
            assert (await ws.outbound(deal))["status"] == "pending_approval"

            # Reject: the agent is told why.
            await page.goto(f"{ws.ui}/approvals/{deal_approval}")
            await page.get_by_label("Reason").fill("No discounts by mail")
            await press(page, "button", "Reject")
            rejected = await ws.outbound(deal)
            assert rejected["status"] == "rejected"
            assert rejected["error"]["message"] == "No discounts by mail"

            # Withheld mail: its findings, the original behind an audited step, release.
            await asyncio.to_thread(mail, stack.smtp_port, "mallory@example.net", INJECTION)

            async def withheld_listed() -> bool:
                await page.goto(f"{ws.ui}/messages?status=withheld")
                return await page.get_by_role("link", name="mallory@example.net").count() == 1

            await eventually(withheld_listed, what="the withheld mail in the UI")
            await press(page, "link", "mallory@example.net")
            assert "injection" in await page.locator("table").inner_text()
            await press(page, "button", "Show the original")
            assert "Ignore all previous instructions" in await page.locator("#raw").inner_text()
            await page.go_back()
            await press(page, "button", "Release to the agent")
            assert "Done: released" in await page.content()
            audit = (await ws.person.get("/audit", params={"limit": 200})).json()["items"]
            assert {"message.released", "outbound.edited_and_approved"} <= {
                a["action"] for a in audit
            }
            assert "ui" in {a["source"] for a in audit}

            # The kill switch, only with its confirmation ticked.
            await page.goto(f"{ws.ui}/outbound")
            await press(page, "button", "Turn outbound off")
            assert "Tick the confirmation" in await page.content()
            await page.get_by_label("Stop every send").check()
            await press(page, "button", "Turn outbound off")
            assert "OFF" in await page.locator("#state").inner_text()
            assert (await ws.person.get("/workspace")).json()["outbound_enabled"] is False

            # The audit log, filtered by action and time.
            await page.goto(f"{ws.ui}/audit")
            await page.get_by_label("Action").fill("message.released")
            await press(page, "button", "Filter")
            cells = await page.locator("tbody td:nth-child(2)").all_inner_texts()
            assert cells == ["message.released"]
            await page.goto(f"{ws.ui}/audit?since=2099-01-01T00:00")
            assert await page.locator("tbody tr").count() == 0

            # Levels: set here, within what the plan allows.
            await page.goto(f"{ws.ui}/inboxes")
            await page.get_by_label("Level of agent").select_option("L3")
            await press(page, "button", "Set")
            assert (await ws.person.get("/inboxes/agent")).json()["security_level"] == "L3"

            # Leak checks: the canary, what a leak does, and the kinds only scored.
            await page.get_by_label("Canary in mail stored for agent").check()
            await page.get_by_label("A send of agent carrying a leak").select_option("reject")
            await page.locator("#exempt-agent-iban").check()
            await press(page, "button", "Save leak checks of agent")
            assert "leak checks saved" in await page.content()
            agent = (await ws.person.get("/inboxes/agent")).json()
            assert agent["canary_token"] is not None
            assert (agent["data_leak_action"], agent["data_leak_exempt"]) == ("reject", ["iban"])
            assert await page.get_by_label("Canary in mail stored for agent").is_checked()
            assert await page.locator("#exempt-agent-iban").is_checked()
            await page.get_by_label("Canary in mail stored for agent").uncheck()
            await page.locator("#exempt-agent-iban").uncheck()
            await press(page, "button", "Save leak checks of agent")
            agent = (await ws.person.get("/inboxes/agent")).json()
            assert agent["canary_token"] is None
            assert (agent["data_leak_action"], agent["data_leak_exempt"]) == ("reject", [])
            developer = await bootstrap_workspace(
                settings.database_url, name="dev", plan="developer"
            )
            auth = _bearer(developer.api_key)
            async with httpx.AsyncClient(base_url=stack.api, headers=auth) as other:
                assert (await other.post("/inboxes", json={"slug": "small"})).is_success
            gated = await browser.new_page()
            await sign_in(gated, ws, developer.api_key)
            await gated.goto(f"{ws.ui}/inboxes")
            l4 = gated.locator("#level-small option[value=L4]")
            assert await l4.is_disabled()
            assert "needs the startup plan" in await l4.inner_text()

            # Readable at 320 px, every control labelled, a focus order that reaches the forms.
            await page.set_viewport_size({"width": 320, "height": 640})
            await page.goto(f"{ws.ui}/approvals/{later_approval}")
            assert await page.evaluate("document.documentElement.scrollWidth") <= 320
            unlabelled = await page.evaluate(
                "[...document.querySelectorAll('input:not([type=hidden]), textarea')]"
                ".filter(e => !e.labels || e.labels.length === 0).length"
            )
            assert unlabelled == 0
            # By keyboard alone: the skip link first, then Tab reaches the decision buttons.
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
            for _ in range(40):
                await page.keyboard.press("Tab")
                if await page.evaluate("document.activeElement.id") == "approve":
                    break
            assert await page.evaluate("document.activeElement.id") == "approve"
            assert dialogs == []
    finally:
        await ws.close()


async def test_every_xss_vector_renders_inert(
    stack: ProcessStack, settings: CommonSettings
) -> None:
    vectors = [v for payloads in xss_suites().values() for v in payloads]
    batches = _batches(vectors)
    recipients = [f"r{i}@example.com" for i in range(len(batches) // 5 + 1)]
    ws = await workspace(stack, settings, recipients)
    try:
        sends = []
        for i, batch in enumerate(batches):
            text = "\n".join(batch).replace("\x00", "")  # NUL is refused anywhere
            subject = re.sub(r"[\r\n\x00]", " ", " | ".join(batch))[:998]  # one header line
            sends.append(await ws.send(recipients[i // 5], subject, text, text))
        approvals = [await held(ws, s) for s in sends]
        lines = "\n".join(vectors).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        # In the sender's name too, every vector, folded over continuation lines (the API
        # never shows a name; the original shows it, as text).
        names = "\n ".join(re.sub(r"[\r\n\x00]", " ", " ".join(b)) for b in batches)
        raw = f"From: {names} <eve@example.net>\nSubject: vectors\n\n{lines}\n".replace(
            "\n", "\r\n"
        )
        await asyncio.to_thread(mail, stack.smtp_port, "eve@example.net", raw.encode())
        async with chromium() as browser:
            page = await browser.new_page()
            problems: list[str] = []
            page.on("dialog", lambda d: problems.append(f"dialog {d.message}"))
            page.on("console", lambda m: problems.append(f"console {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"error {e}"))
            await sign_in(page, ws, ws.person_key)
            pages = [f"{ws.ui}/approvals", *(f"{ws.ui}/approvals/{a}" for a in approvals)]
            for url in pages:
                await page.goto(url)
                await _assert_inert(page, url)

            async def stored() -> list[dict[str, Any]]:  # the inbox's only inbound mail
                return (await ws.person.get("/inboxes/agent/messages")).json()["items"]  # type: ignore[no-any-return]

            # Its sender's name is past parsing: the address shown is empty, the original whole.
            [eve] = await eventually(stored, what="the mail of vectors stored")
            await page.goto(f"{ws.ui}/messages/{eve['id']}")
            await press(page, "button", "Show the original")
            await _assert_inert(page, "the original")
            assert "<script" in (await page.locator("#raw").inner_text()).lower()  # shown, as text
        assert problems == []
    finally:
        await ws.close()


async def _assert_inert(page: Page, where: str) -> None:
    """Nothing the vectors carry became markup: only the page's own elements exist."""
    found = await page.evaluate(
        "[...document.querySelectorAll('script, iframe, object, embed, svg, math, img, video, "
        "audio, frame, frameset, meta[http-equiv], base, "
        "link:not([rel=stylesheet]):not([rel=icon])')].length"
    )
    assert found == 0, where
    handlers = await page.evaluate(
        "[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).length"
    )
    assert handlers == 0, where


def _batches(vectors: list[str]) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    for vector in vectors:
        if batches[-1] and sum(len(v) + 3 for v in batches[-1]) + len(vector) > SUBJECT_ROOM:
            batches.append([])
        batches[-1].append(vector)
    return batches


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _screenshot() -> Path:
    """Into the docs when asked to refresh them (``MAILMOAT_UPDATE_SCREENSHOTS=1``)."""
    if os.environ.get("MAILMOAT_UPDATE_SCREENSHOTS") == "1":
        return SCREENSHOT
    return Path(os.environ.get("TMPDIR", "/tmp")) / "mailmoat-review-queue.png"
