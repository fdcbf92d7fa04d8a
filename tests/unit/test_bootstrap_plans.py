"""``mailmoat admin bootstrap --plan`` offers the plans there are and refuses any other."""

from __future__ import annotations

import pytest

from mailmoat.cli.main import main
from mailmoat.common.plans import PLANS


def test_the_help_lists_every_plan(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["admin", "bootstrap", "--help"])
    assert done.value.code == 0
    assert f"--plan {{{','.join(PLANS)}}}" in capsys.readouterr().out


def test_an_unknown_plan_is_refused_before_anything_is_made(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["admin", "bootstrap", "--workspace", "w", "--plan", "gold"])
    assert done.value.code == 2
    assert "invalid choice: 'gold'" in capsys.readouterr().err
