"""The delivery worker's choice of what to attempt: a fair share per workspace, a bound per target
and one in all, so a workspace's backlog or slow target never takes another's turn."""

from __future__ import annotations

import uuid

from mailmoat.dispatch.domain.fairness import Due, Limits, pick_fair, target_of

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
LIMITS = Limits(total=8, per_workspace=4, per_target=2)


def owed(workspace: uuid.UUID, target: str, count: int = 1) -> list[Due]:
    return [Due(uuid.uuid4(), workspace, target) for _ in range(count)]


def test_a_backlog_in_one_workspace_leaves_the_others_their_turn() -> None:
    backlog = [due for n in range(50) for due in owed(A, f"a{n}:443", 2)]
    late = owed(B, "b:443")
    picked = pick_fair([*backlog, *late], [], LIMITS)
    assert late[0] in picked
    assert sum(due.workspace_id == A for due in picked) == LIMITS.per_workspace


def test_workspaces_take_turns_one_delivery_each() -> None:
    waiting = [*owed(A, "a1:443"), *owed(A, "a2:443"), *owed(B, "b:443"), *owed(C, "c:443")]
    picked = pick_fair(waiting, [], Limits(total=3, per_workspace=4, per_target=2))
    assert {due.workspace_id for due in picked} == {A, B, C}


def test_the_first_turn_moves_on() -> None:
    waiting = [*owed(A, "a:443"), *owed(B, "b:443")]
    one = Limits(total=1, per_workspace=1, per_target=1)
    firsts = {pick_fair(waiting, [], one, turn=turn)[0].workspace_id for turn in range(2)}
    assert firsts == {A, B}


def test_a_slow_target_holds_at_most_its_bound() -> None:
    tarpit = owed(A, "tarpit:80", 10)
    fine = owed(A, "fine:443")
    picked = pick_fair([*tarpit, *fine], [], LIMITS)
    assert sum(due.target == "tarpit:80" for due in picked) == LIMITS.per_target
    assert fine[0] in picked  # passed over the tarpit's queue, not stuck behind it


def test_the_target_bound_counts_across_workspaces() -> None:
    shared = [*owed(A, "hooks:443", 3), *owed(B, "hooks:443", 3)]
    picked = pick_fair(shared, [], LIMITS)
    assert len(picked) == LIMITS.per_target


def test_attempts_in_flight_count_against_every_bound() -> None:
    running = owed(A, "a:443", 2) + owed(A, "a2:443", 2)
    waiting = [*owed(A, "a3:443"), *owed(B, "b:443")]
    picked = pick_fair(waiting, running, LIMITS)
    assert [due.workspace_id for due in picked] == [B]
    full = owed(C, "c1:443", 2) + owed(C, "c2:443", 2) + owed(B, "b1:443", 2) + owed(B, "b2:443", 2)
    assert pick_fair(owed(A, "a:443"), full, LIMITS) == []


def test_nothing_in_flight_is_started_twice() -> None:
    [running] = owed(A, "a:443")
    assert pick_fair([running, running], [running], LIMITS) == []
    [waiting] = owed(B, "b:443")
    assert pick_fair([waiting, waiting], [], LIMITS) == [waiting]


def test_a_target_is_a_host_and_port() -> None:
    assert target_of("https://Hooks.Example.org/a?b=c") == "hooks.example.org:443"
    assert target_of("http://hooks.example.org/a") == "hooks.example.org:80"
    assert target_of("http://127.0.0.1:8080/a") == target_of("http://127.0.0.1:8080/b")
    assert target_of("http://[::1]:9/") == "::1:9"
    assert target_of("http://hooks.example.org:99999/") == "hooks.example.org:80"
