"""The deployment self-check names a missing setting before it does anything."""

from __future__ import annotations

import pytest

from mailmoat.cli.selftest import run


def test_a_missing_setting_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert run({"SELFTEST_SMTP": "127.0.0.1:1"}) == 2
    assert "SELFTEST_API is not set" in capsys.readouterr().err


def test_an_api_that_is_not_http_is_refused() -> None:
    env = {
        "SELFTEST_SMTP": "127.0.0.1:1",
        "SELFTEST_API": "file:///etc",
        "SELFTEST_API_KEY": "k",
        "SELFTEST_INBOX": "i",
        "SELFTEST_DOMAIN": "d.example",
    }
    with pytest.raises(ValueError, match="http"):
        run(env)
