"""The embedded broker's storage: memory only, and a durable log refused with its reason (the
bundled tansu has no PostgreSQL engine). A broker killed outright loses what it held; that is
what redrive is for (tests/integration/test_redrive.py, tests/e2e/test_dev_restart.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailmoat.cli.broker_storage import STORAGE_ENV, BrokerStorageError, broker_storage
from mailmoat.cli.main import main
from mailmoat.common.embedded_broker import MEMORY_STORAGE, storage_engines

POSTGRES_URL = "postgresql+psycopg://mailmoat@127.0.0.1:5432/mailmoat"


def test_memory_is_the_default_storage() -> None:
    assert broker_storage("", database_url="sqlite+aiosqlite:///m.db") == MEMORY_STORAGE
    assert broker_storage("memory", database_url=POSTGRES_URL) == MEMORY_STORAGE


def test_postgres_storage_on_an_sqlite_gateway_is_refused() -> None:
    with pytest.raises(BrokerStorageError, match="MAILMOAT_DATABASE_URL is SQLite"):
        broker_storage("postgres", database_url="sqlite+aiosqlite:///m.db")


def test_postgres_storage_is_refused_because_the_bundled_broker_has_none() -> None:
    assert not any("postgres" in engine for engine in storage_engines())
    for choice in ("postgres", "postgres://broker@127.0.0.1/tansu", "disk"):
        with pytest.raises(BrokerStorageError, match="memory only"):
            broker_storage(choice, database_url=POSTGRES_URL)


def test_mailmoat_dev_refuses_it_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(STORAGE_ENV, "postgres")
    monkeypatch.delenv("MAILMOAT_DATABASE_URL", raising=False)
    assert main(["dev", "--data-dir", str(tmp_path / "dev")]) == 2
    assert "MAILMOAT_DATABASE_URL is SQLite" in capsys.readouterr().err
    assert not (tmp_path / "dev").exists()
