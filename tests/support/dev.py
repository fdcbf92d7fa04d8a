"""``mailmoat dev`` as a terminal runs it: started in a session of its own, stopped with Ctrl-C."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailmoat.common.processes import wait_for_port
from tests.support.stack import STARTUP_SECONDS


@contextmanager
def dev_gateway(
    data: Path, smtp: int, api: int, log: Path, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``mailmoat dev`` on ``smtp`` and ``api``, its output appended to ``log``; yielded once
    both listen, Ctrl-C'd at the end if still running."""
    environment = {
        **os.environ,
        "MAILMOAT_DEV_METRICS_BASE_PORT": str(random.randint(20_000, 40_000)),
        **env,
    }
    ports = ["--smtp-port", str(smtp), "--api-port", str(api)]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailmoat.cli", "dev", "--data-dir", str(data), *ports],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port("127.0.0.1", api, timeout=STARTUP_SECONDS)
        wait_for_port("127.0.0.1", smtp, timeout=STARTUP_SECONDS)
        yield process
    finally:
        if process.poll() is None:
            ctrl_c(process)


def ctrl_c(process: subprocess.Popen[bytes]) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found
