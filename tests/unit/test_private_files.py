"""What the gateway writes on disk is its owner's alone, and it never runs on a known secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from mailmoat.cli.dev import deployment_secret, write_private
from mailmoat.common.db.session import create_engine
from mailmoat.common.settings import DEVELOPMENT_SECRET, SECRET_ENV, CommonSettings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/data/gateway.db")
    try:
        async with engine.begin() as db:
            await db.execute(text("CREATE TABLE t (a INTEGER)"))
            assert _mode(tmp_path / "data" / "gateway.db") == 0o600
            assert _mode(tmp_path / "data") == 0o700
    finally:
        await engine.dispose()


def test_keys_and_the_secret_are_written_private_from_the_first_byte(tmp_path: Path) -> None:
    write_private(tmp_path / "keys.json", "{}")
    assert _mode(tmp_path / "keys.json") == 0o600
    with pytest.raises(FileExistsError):  # never written over, never left open to others
        write_private(tmp_path / "keys.json", "{}")
    secret = deployment_secret(tmp_path)
    assert len(secret) >= 32
    assert _mode(tmp_path / "secret.key") == 0o600
    assert deployment_secret(tmp_path) == secret


def test_the_deployment_secret_has_no_usable_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(ValidationError, match=SECRET_ENV):
        CommonSettings()
    monkeypatch.setenv(SECRET_ENV, DEVELOPMENT_SECRET)
    with pytest.raises(ValidationError, match="placeholder"):
        CommonSettings()
