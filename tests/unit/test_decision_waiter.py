"""A send call's future is resolved by policy's reply for its outbound id, and only by that."""

from __future__ import annotations

import asyncio
import uuid

from mailmoat.common.events import SendDecided
from mailmoat.common.settings import CommonSettings
from mailmoat.gateway.decisions import DecisionWaiter


def reply(outbound_id: uuid.UUID, status: str = "pending_approval") -> bytes:
    decided = SendDecided(
        mail_id=outbound_id,
        workspace_id=uuid.uuid4(),
        inbox_id=uuid.uuid4(),
        status=status,  # type: ignore[arg-type]
        risk_score=12,
    )
    return decided.to_bytes()


async def test_the_reply_for_the_outbound_id_wakes_its_call() -> None:
    waiter = DecisionWaiter(CommonSettings())
    mine, other = uuid.uuid4(), uuid.uuid4()
    future = waiter.expect(mine)
    waiter.resolve(b"{not json")  # skipped, not raised
    waiter.resolve(reply(other))  # another call's (or another replica's) reply
    assert not future.done()
    waiter.resolve(reply(mine))
    decided = await waiter.wait(mine, future, within=1)
    assert decided is not None
    assert (decided.mail_id, decided.status, decided.risk_score) == (mine, "pending_approval", 12)


async def test_a_call_stops_waiting_at_its_deadline_and_is_forgotten() -> None:
    waiter = DecisionWaiter(CommonSettings())
    outbound_id = uuid.uuid4()
    future = waiter.expect(outbound_id)
    assert await waiter.wait(outbound_id, future, within=0.05) is None
    waiter.resolve(reply(outbound_id))  # too late: nobody is waiting, nothing breaks
    assert await waiter.wait(outbound_id, waiter.expect(outbound_id), within=0) is None
    await asyncio.sleep(0)
