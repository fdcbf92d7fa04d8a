"""The local parts ingest keeps for bounces and complaints cannot name an inbox."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mailmoat.gateway.routes.inboxes import InboxCreate


@pytest.mark.parametrize("slug", ["bounces", "feedback"])
def test_feedback_addresses_cannot_be_inboxes(slug: str) -> None:
    with pytest.raises(ValidationError, match="reserved"):
        InboxCreate(slug=slug)


def test_other_slugs_can() -> None:
    assert InboxCreate(slug="bounces-desk").slug == "bounces-desk"
