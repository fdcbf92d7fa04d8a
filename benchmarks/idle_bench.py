"""At rest: what ``mailmoat dev`` costs with no traffic.

Starts ``mailmoat dev`` (one process for every service, the tansu broker its child) in a temporary
data directory on free ports, waits until the API and SMTP answer and then until it has been
quiet long enough for its consumers to settle on their idle fetch wait, then reads the CPU time
and resident memory of the process and of each child from ``/proc`` over a window (30 s by
default). Targets: the gateway's process under 5% of one core and under 400 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mailmoat.cli.dev import CLOSING_LINE
from mailmoat.common.fetch_pace import BUSY_SECONDS
from mailmoat.common.processes import free_port, wait_for_port

WINDOW_SECONDS = 30.0
SETTLE_SECONDS = BUSY_SECONDS + 5.0
"""After start-up, long enough for the consumers to fall back to their idle fetch wait."""
TITLE = "## At rest (benchmarks/idle_bench.py)"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """One process over the window: CPU as a percentage of one core, resident memory."""

    name: str
    cpu_percent: float
    rss_mb: float


@dataclass(frozen=True)
class IdleResult:
    gateway: Usage
    children: list[Usage]
    window_seconds: float
    stopped_cleanly: bool


def cpu_seconds(pid: int) -> float:
    """User and system CPU time ``pid`` has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def command_name(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def measure(pid: int, window: float) -> tuple[Usage, list[Usage]]:
    """CPU and memory of ``pid`` and of each of its children over ``window`` seconds."""
    pids = [pid, *children(pid)]
    before = {p: cpu_seconds(p) for p in pids}
    started = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - started
    usage = [
        Usage(command_name(p), (cpu_seconds(p) - before[p]) / elapsed * 100, rss_mb(p))
        for p in pids
    ]
    return usage[0], usage[1:]


def run(window: float = WINDOW_SECONDS) -> IdleResult:
    with tempfile.TemporaryDirectory() as tmp:
        smtp, api, log = free_port(), free_port(), Path(tmp) / "dev.log"
        env = {**os.environ, "MAILMOAT_DEV_METRICS_BASE_PORT": str(free_port())}
        command = [sys.executable, "-m", "mailmoat.cli", "dev", "--data-dir", f"{tmp}/data"]
        ports = ["--smtp-port", str(smtp), "--api-port", str(api)]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*command, *ports], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port("127.0.0.1", api, timeout=180)
            wait_for_port("127.0.0.1", smtp, timeout=180)
            time.sleep(SETTLE_SECONDS)
            gateway, kids = measure(process.pid, window)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        output = log.read_text(errors="replace")
    clean = process.returncode == 0 and output.rstrip().endswith(CLOSING_LINE)
    return IdleResult(gateway, kids, window, clean and "Traceback" not in output)


def section(result: IdleResult) -> list[str]:
    rows = [
        f"| {u.name} ({kind}) | {u.cpu_percent:.1f} | {u.rss_mb:.0f} |"
        for u, kind in [(result.gateway, "every service")]
        + [(child, "child") for child in result.children]
    ]
    total_cpu = result.gateway.cpu_percent + sum(c.cpu_percent for c in result.children)
    total_rss = result.gateway.rss_mb + sum(c.rss_mb for c in result.children)
    stop = "exit 0 and the closing line" if result.stopped_cleanly else "NOT clean"
    return [
        TITLE,
        "",
        "`mailmoat dev` with no traffic: every service on one event loop in one process, the",
        f"embedded broker (tansu) its child. Measured over {result.window_seconds:.0f} s once the",
        "API and SMTP answer and the consumers have settled on their idle fetch wait; CPU is",
        "a percentage of one core. Targets: the process under 5% and under 400 MB.",
        "",
        "| process | CPU (% of one core) | RSS (MB) |",
        "|---|---|---|",
        *rows,
        f"| all together | {total_cpu:.1f} | {total_rss:.0f} |",
        "",
        f"Ctrl-C afterwards: {stop}.",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=float, default=WINDOW_SECONDS)
    print("\n".join(section(run(parser.parse_args().window))))
