"""A workspace's credits in a month: its plan's allowance, what it used, what is left and what
went beyond it; the plans defined once, agreeing with what the gateway and the CLI accept."""

from __future__ import annotations

from datetime import UTC, datetime

from mailmoat.common.credits import credit_period, credit_standing
from mailmoat.common.db.tables import Workspace
from mailmoat.common.plans import PLANS, allows, minimum_plan, monthly_allowance

LAST_SECOND = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_period_is_a_calendar_month_in_utc_and_resets_on_the_first() -> None:
    workspace = Workspace(plan="developer", credits_period="2026-12", credits_used=40)
    month = credit_standing(workspace, LAST_SECOND)
    assert (month.period, month.resets_at) == ("2026-12", datetime(2027, 1, 1, tzinfo=UTC))
    assert (month.allowance, month.used, month.balance, month.overage) == (25_000, 40, 24_960, 0)
    next_month = credit_standing(workspace, datetime(2027, 1, 1, tzinfo=UTC))
    assert (next_month.period, next_month.used, next_month.balance) == ("2027-01", 0, 25_000)


def test_the_balance_stops_at_zero_and_the_rest_is_overage() -> None:
    workspace = Workspace(plan="free", credits_period="2026-12", credits_used=1_007)
    month = credit_standing(workspace, LAST_SECOND)
    assert (month.allowance, month.balance, month.overage) == (1_000, 0, 7)


def test_a_workspace_never_charged_has_its_whole_allowance() -> None:
    month = credit_standing(Workspace(plan="startup", credits_used=0), LAST_SECOND)
    assert (month.used, month.balance) == (0, 250_000)


def test_a_plan_not_listed_has_no_allowance_and_refuses_nothing() -> None:
    assert monthly_allowance("custom") == 0
    workspace = Workspace(plan="custom", credits_period="2026-12", credits_used=3)
    assert credit_standing(workspace, LAST_SECOND).overage == 3


def test_the_period_of_an_aware_time_is_its_month_in_utc() -> None:
    assert credit_period(datetime.fromisoformat("2027-01-01T00:30:00+01:00")) == "2026-12"


def test_each_plan_allows_its_levels_and_names_the_cheapest_for_each() -> None:
    assert [p for p in PLANS if allows(p, "L3")] == ["developer", "startup", "enterprise"]
    assert [p for p in PLANS if allows(p, "L4")] == ["startup", "enterprise"]
    assert (minimum_plan("L3"), minimum_plan("L4")) == ("developer", "startup")
    assert allows("custom", "L2")  # a plan set by hand allows what the free plan does
    assert not allows("custom", "L3")
    assert all(plan.monthly_credits > 0 for plan in PLANS.values())
