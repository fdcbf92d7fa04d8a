"""Reputation's thresholds: the complaint and hard-bounce rates that warn and suspend, the
minimum volumes below which nothing acts, and the burst detector."""

from __future__ import annotations

from mailmoat.reputation.domain import Window, burst, judge


def day(sent: int, complaints: int = 0, hard_bounces: int = 0) -> list[Window]:
    return [Window("24 h", sent, hard_bounces, 0, complaints), Window("7 d", sent, hard_bounces)]


def test_complaint_rate_above_three_per_mille_suspends_once_volume_is_reached() -> None:
    verdict = judge(day(1000, complaints=4))
    assert verdict.status == "suspended"
    assert verdict.reason == (
        "complaint rate above 0.30%: 4 complaints in 1000 messages over 24 h (0.40%)"
    )
    assert judge(day(1000, complaints=3)).status == "warned"  # exactly 0.3% is not above it
    assert judge(day(1000, complaints=2)).status == "warned"  # 0.2%
    assert judge(day(1000, complaints=1)).status == "warned"  # 0.1%
    assert judge(day(1001, complaints=1)).status == "active"  # under 0.1%
    assert judge(day(1000)).status == "active"


def test_small_volumes_and_lone_complaints_never_suspend() -> None:
    assert judge(day(3, complaints=1)).status == "active"
    assert judge(day(299, complaints=5)).status == "active"
    assert judge(day(300, complaints=1)).status == "warned"  # 0.33%, but only one complaint
    assert judge(day(300, complaints=2)).status == "suspended"


def test_the_seven_day_window_catches_a_slow_rate() -> None:
    windows = [Window("24 h", 100, 0, 0, 0), Window("7 d", 2000, 0, 0, 8)]
    assert judge(windows).status == "suspended"
    assert "over 7 d" in judge(windows).reason


def test_hard_bounces_warn_above_five_and_suspend_above_ten_percent() -> None:
    assert judge(day(100, hard_bounces=11)).status == "suspended"
    assert judge(day(100, hard_bounces=10)).status == "warned"
    assert judge(day(100, hard_bounces=6)).status == "warned"
    assert judge(day(100, hard_bounces=5)).status == "active"
    assert judge(day(99, hard_bounces=50)).status == "active"  # under the minimum volume


def test_a_burst_is_far_above_the_senders_own_average_minute() -> None:
    assert burst(60, 0, week_sent=0) is None
    assert burst(61, 0, week_sent=0) == (
        "61 messages in one minute, over 60 (the 7-day average minute is 0.0)"
    )
    busy_week = 7 * 24 * 60 * 20  # a sender that averages 20 a minute
    assert burst(150, 0, week_sent=busy_week) is None
    assert burst(201, 0, week_sent=busy_week) is not None
    assert burst(10, 31, week_sent=0) == "31 first-time recipients in one minute"
    assert burst(10, 30, week_sent=0) is None
