"""``make run`` is one process beside its broker, and stops cleanly: Ctrl-C (or SIGTERM) stops the
services, then the broker, then says so in one line, with no error on the way."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from mailmoat.cli.dev import CLOSING_LINE
from mailmoat.common.processes import free_port
from tests.support.dev import children, ctrl_c, dev_gateway

BANNER_END = "Press Ctrl-C to stop."


def _until_logged(log: Path, line: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while line not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{line!r} not printed in {timeout}s"
        time.sleep(0.2)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_dev_runs_in_one_process_and_stops_with_one_closing_line(tmp_path: Path, how: str) -> None:
    log = tmp_path / "dev.log"
    api = free_port()
    with dev_gateway(tmp_path / "data", free_port(), api, log) as process:
        answered = httpx.get(f"http://127.0.0.1:{api}/healthz", timeout=30)
        assert answered.status_code == 200, answered.text
        assert len(children(process.pid)) == 1  # the broker; every service is in-process
        # The API answers a moment before the banner is printed: stop once it has been.
        _until_logged(log, BANNER_END)
        if how == "ctrl-c":
            ctrl_c(process)
        else:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    output = log.read_text(errors="replace")
    assert process.returncode == 0, output[-3000:]
    assert output.rstrip().endswith(CLOSING_LINE), output[-3000:]
    assert output.count(CLOSING_LINE) == 1
    assert output.index(BANNER_END) < output.index(CLOSING_LINE)
    assert "ERROR" not in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
