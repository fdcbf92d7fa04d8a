"""Two parties behind one test client: a person's key for everything but sending, and an agent's
key for the Send API, as a deployment that keeps their duties apart has them."""

from __future__ import annotations

from collections.abc import Generator

import httpx


class PersonAndAgent(httpx.Auth):
    """Authenticates ``POST .../send`` with the agent's key and every other call with the
    person's: tests of other behaviour need not say who does what at each step."""

    def __init__(self, person_key: str, agent_key: str) -> None:
        self.person_key = person_key
        self.agent_key = agent_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sending = request.method == "POST" and request.url.path.endswith("/send")
        key = self.agent_key if sending else self.person_key
        request.headers["authorization"] = f"Bearer {key}"
        yield request


def both_keys(person_key: str, agent_key: str | None) -> PersonAndAgent:
    """The auth of a client acting as a workspace's person and its agent (bootstrap with
    ``agent_key=True``)."""
    assert agent_key is not None, "bootstrap the workspace with agent_key=True"
    return PersonAndAgent(person_key, agent_key)
