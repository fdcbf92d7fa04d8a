"""How problems name fields and which bodies count as JSON: pure helpers of the gateway."""

from __future__ import annotations

import pytest

from mailmoat.gateway.content_type import is_json
from mailmoat.gateway.problems import field_path


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "to", 0), "to[0]"),
        (("body", "metadata", "reasoning"), "metadata.reasoning"),
        (("body", "items", 2, "tags", 0), "items[2].tags[0]"),
        (("query", "cursor"), "cursor"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("path", "message_id"), "message_id"),
        (("body",), ""),
    ],
)
def test_a_field_is_a_dotted_path_without_its_location(
    loc: tuple[str | int, ...], field: str
) -> None:
    assert field_path(loc) == field


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("text/json", False),
        ("", False),
    ],
)
def test_only_application_json_types_are_json(content_type: str, json: bool) -> None:
    assert is_json(content_type) is json
