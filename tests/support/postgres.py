"""A throwaway PostgreSQL cluster made with initdb and pg_ctl in a temporary directory."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mailmoat.common.processes import free_port

UNPRIVILEGED_USERS = ("postgres", "nobody")


class ThrowawayPostgres:
    """initdb + pg_ctl on a free port; PostgreSQL refuses to run as root, so root runs it as an
    unprivileged user.

    The tests' cluster skips fsync. ``durable`` keeps it on, as production runs, with
    connections enough for every service's pool: the benchmarks measure that one."""

    def __init__(self, *, durable: bool = False) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mailmoat-pg-"))
        self.data = self.root / "data"
        self.durable = durable
        self._user = _run_as_user()

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://mailmoat@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://mailmoat@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        """An empty database on the running cluster; its URL."""
        admin = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        return self.url_for(name)

    def start(self) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        initdb = ["-D", str(self.data), "-U", "mailmoat", "-A", "trust", "-E", "UTF8"]
        self._pg(_binary("initdb"), *initdb, *([] if self.durable else ["--no-sync"]))
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=300" if self.durable else " -c fsync=off"
        self._pg(
            _binary("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():  # started (and not stopped)
                self._pg(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def postmaster(self) -> int:
        """The running cluster's postmaster process id."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _pg(self, *command: str) -> None:
        prefix = ["runuser", "-u", self._user, "--"] if self._user else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)


def postgres_missing() -> str | None:
    """``None`` when initdb and pg_ctl can be found, else what is missing."""
    try:
        _binary("initdb")
        _binary("pg_ctl")
    except RuntimeError as missing:
        return str(missing)
    return None


def _run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"PostgreSQL binary {name!r} not found")
