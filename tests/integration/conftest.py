"""Integration fixtures: a workspace with an inbox in the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mailmoat.common.settings import CommonSettings
from tests.support.scenario import Scenario


@pytest.fixture
async def scenario(settings: CommonSettings) -> AsyncIterator[Scenario]:
    created = await Scenario.create(settings)
    try:
        yield created
    finally:
        await created.close()
