"""The README tour's reader: how it cuts commands and checks answers against what is stated."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.readme_tour import matches, substitute, tour_steps

README = """# Title

## A tour

```sh
# setting up
KEY=$(python3 -c 'import json
print(1)')
curl -s -X POST http://127.0.0.1:8080/api/v1/inboxes \\
  -d '{"slug": "agent"}'
# -> {"slug": "agent",
#     "id": "<inbox-id>"}
cat <<'EOF'
# not a comment
EOF
curl -s http://127.0.0.1:8080/api/v1/inboxes/<inbox-id>
# -> Received: from ...
```

## Next

```sh
echo not in the tour
```
"""


def test_commands_are_cut_whole_with_their_stated_answers() -> None:
    steps = tour_steps(README, "## A tour")
    assert [s.command.splitlines()[0] for s in steps] == [
        "KEY=$(python3 -c 'import json",
        "curl -s -X POST http://127.0.0.1:8080/api/v1/inboxes \\",
        "cat <<'EOF'",
        "curl -s http://127.0.0.1:8080/api/v1/inboxes/<inbox-id>",
    ]
    assert steps[1].expected == {"slug": "agent", "id": "<inbox-id>"}
    assert [s.expected for s in steps[2:]] == [None, "Received: from ..."]  # text, not JSON
    assert matches(steps[3].expected, "Received: from mx.example", {})


@pytest.mark.parametrize(
    ("stated", "answer", "holds"),
    [
        ({"status": "withheld"}, {"status": "withheld", "id": 1}, True),
        ({"status": "withheld"}, {"status": "review"}, False),
        ({"status": "..."}, {"status": None}, True),
        ({"status": "..."}, {}, False),
        ({"message": "Recipient is not ..."}, {"message": "Recipient is not allowed"}, True),
        ({"message": "Recipient is not ..."}, {"message": "Sender is not allowed"}, False),
        ({"items": [{"s": "a"}, {"s": "b"}]}, {"items": [{"s": "b"}, {"s": "a"}]}, True),
        ({"items": [{"s": "a"}, {"s": "c"}]}, {"items": [{"s": "a"}]}, False),
        ({"id": "<x>"}, {"id": None}, False),
    ],
)
def test_an_answer_holds_what_the_readme_states(stated: Any, answer: Any, holds: bool) -> None:
    assert matches(stated, answer, {}) is holds


def test_names_bind_only_on_a_whole_match_and_fill_later_commands() -> None:
    names: dict[str, Any] = {}
    stated = {"items": [{"id": "<review-id>", "status": "review"}]}
    answer = {"items": [{"id": "m1", "status": "withheld"}, {"id": "m2", "status": "review"}]}
    assert not matches({"id": "<a>", "status": "x"}, {"id": "m9", "status": "y"}, names)
    assert names == {}
    assert matches(stated, answer, names)
    assert names == {"review-id": "m2"}
    assert substitute("GET /messages/<review-id> <other>", names) == "GET /messages/m2 <other>"
    assert not matches({"outbound_id": "<review-id>"}, {"outbound_id": "m1"}, names)
    assert matches({"outbound_id": "<review-id>"}, {"outbound_id": "m2"}, names)
