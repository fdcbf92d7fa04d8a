"""``mailmoat run`` names the services without importing them; the names match the registry;
``mailmoat --version`` names the installed release (the container image's smoke check)."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from mailmoat.cli.main import CORE_SERVICE_NAMES, SERVICE_NAMES, main
from mailmoat.cli.registry import OPTIONAL_SERVICES, SERVICES


def test_the_run_command_names_every_service_of_the_registry() -> None:
    assert list(CORE_SERVICE_NAMES) == list(SERVICES)
    assert list(SERVICE_NAMES) == [*SERVICES, *OPTIONAL_SERVICES]


def test_an_unknown_service_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "mailer"]) == 2
    assert "unknown service 'mailer'" in capsys.readouterr().err


def test_one_unknown_name_among_several_refuses_them_all(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "ingest", "mailer", "policy"]) == 2
    assert "unknown service 'mailer'" in capsys.readouterr().err


def test_the_version_is_the_installed_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.strip() == f"mailmoat {version('mailmoat')}"
