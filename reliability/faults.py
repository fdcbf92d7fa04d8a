"""Fault injectors. Each proves its fault happened (the process died by SIGKILL, the port
refused connections, a write met ENOSPC, the database refused connections, the relay answered
as told, the process sat stopped) and raises ``FaultNotInjected`` when it did not: a scenario
whose fault never happened has tested nothing."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.stack import ProcessStack

from mailmoat.common.bus import create_topics
from mailmoat.common.settings import CommonSettings
from reliability.harness import BrokerProcess, ChaosPostgres
from reliability.relay import ChaosRelay, RelayMode

LISTENERS = {"ingest": "smtp_port", "gateway": "api_port"}
"""The services that listen, and the ``ProcessStack`` attribute naming their port."""


class FaultNotInjected(RuntimeError):
    """The fault did not happen (or could not be made to happen here)."""


@dataclass(frozen=True)
class Injection:
    """One fault: what, when (monotonic seconds), and the proof that it happened."""

    fault: str
    started: float
    ended: float
    evidence: str


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def _killed(process: subprocess.Popen[bytes], what: str) -> str:
    process.send_signal(signal.SIGKILL)
    code = process.wait()
    if code != -signal.SIGKILL:
        raise FaultNotInjected(f"{what} (pid {process.pid}) exited {code}, not by SIGKILL")
    return f"{what} pid {process.pid} died by SIGKILL"


def _port_closed(port: int, what: str) -> str:
    if not refuses_connections(port):
        raise FaultNotInjected(f"{what}'s port {port} still takes connections")
    return f"port {port} refused connections"


async def kill_service(stack: ProcessStack, name: str) -> Injection:
    """kill -9 of one service, then the same service started again."""
    started = time.monotonic()
    process = stack.processes.pop(name)
    proof = [await asyncio.to_thread(_killed, process, name)]
    if (attribute := LISTENERS.get(name)) is not None:
        proof.append(_port_closed(getattr(stack, attribute), name))
    await asyncio.to_thread(stack.start, name)
    return Injection(f"kill -9 {name}", started, time.monotonic(), "; ".join(proof))


async def broker_outage(
    broker: BrokerProcess, settings: CommonSettings, seconds: float
) -> Injection:
    """kill -9 of a tansu process; ``seconds`` later it starts again on the same port, and the
    topics are made again (a memory broker comes back empty, as ``make run`` would after it)."""
    started = time.monotonic()
    proof = await asyncio.to_thread(_killed, broker.process, "tansu")
    broker.forget()
    proof += "; " + _port_closed(broker.port, "tansu")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(broker.start)
    await create_topics(settings, partitions=2)
    return Injection("broker killed and restarted", started, time.monotonic(), proof)


async def postgres_outage(cluster: ChaosPostgres, seconds: float) -> Injection:
    """PostgreSQL stopped with ``pg_ctl stop -m immediate`` (a crash: no checkpoint, clients
    cut off) for ``seconds``, then started again with its data."""
    started = time.monotonic()
    await asyncio.to_thread(cluster.halt)
    proof = _port_closed(cluster.port, "PostgreSQL")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(cluster.resume)
    return Injection(f"PostgreSQL down {seconds:.0f} s", started, time.monotonic(), proof)


async def relay_fault(
    relay: ChaosRelay, mode: RelayMode, seconds: float, *, patience: float = 30.0
) -> Injection:
    """The relay answers as ``mode`` for ``seconds``, and on until a send has met it (for at
    most ``patience`` seconds more: a busy pipeline may bring none in a short window)."""
    log = relay.log

    def met() -> tuple[int, int, int]:
        return len(log.refused), log.dropped, log.tarpitted

    before = met()
    started = time.monotonic()
    relay.mode = mode
    await asyncio.sleep(seconds)
    while met() == before and time.monotonic() < started + seconds + patience:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    relay.mode = RelayMode.ACCEPT
    refused, dropped, held = (now - then for now, then in zip(met(), before, strict=True))
    if refused + dropped + held == 0:
        raise FaultNotInjected(f"no send reached the relay while it was {mode}")
    proof = f"relay {mode}: {refused} refused, {dropped} dropped mid-DATA, {held} held"
    elapsed = time.monotonic() - started
    return Injection(f"relay {mode} {elapsed:.0f} s", started, time.monotonic(), proof)


def _state(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split(":", 1)[1].strip()
    return "?"


async def stall(stack: ProcessStack, name: str, seconds: float) -> Injection:
    """SIGSTOP of a service for ``seconds`` (a consumer that stops answering without dying),
    then SIGCONT."""
    pid = stack.processes[name].pid
    started = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    await asyncio.sleep(0.2)
    if not (state := _state(pid)).startswith("T"):
        os.kill(pid, signal.SIGCONT)
        raise FaultNotInjected(f"{name} (pid {pid}) is {state!r} after SIGSTOP, not stopped")
    await asyncio.sleep(seconds)
    os.kill(pid, signal.SIGCONT)
    proof = f"{name} pid {pid} was {state!r} for {seconds:.0f} s"
    return Injection(f"{name} stalled {seconds:.0f} s", started, time.monotonic(), proof)


class SmallDisk:
    """A small filesystem to put the SQLite database on and fill: tmpfs, or where mounting
    tmpfs is refused, an ext4 image on a loop device. Neither: ``FaultNotInjected``."""

    def __init__(self, mount_point: Path, megabytes: int = 64) -> None:
        self.mount_point = mount_point
        self.megabytes = megabytes
        self.method = ""
        self._ballast = mount_point / "ballast"

    def mount(self) -> str:
        self.mount_point.mkdir(parents=True, exist_ok=True)
        refusals = []
        for method, command in (
            ("tmpfs", self._tmpfs),
            ("ext4 image on a loop device", self._loop),
        ):
            done = subprocess.run(command(), capture_output=True, text=True, check=False)
            if done.returncode == 0:
                self.method = method
                return method
            refusals.append(f"{method}: {done.stderr.strip() or done.returncode}")
        raise FaultNotInjected("no small filesystem could be mounted: " + "; ".join(refusals))

    def _tmpfs(self) -> list[str]:
        size = f"size={self.megabytes}m"
        return ["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(self.mount_point)]

    def _loop(self) -> list[str]:
        image = self.mount_point.with_suffix(".img")
        with image.open("wb") as handle:
            handle.truncate(self.megabytes * 2**20)
        subprocess.run(["mkfs.ext4", "-q", "-m", "0", str(image)], check=False)
        return ["mount", "-o", "loop", str(image), str(self.mount_point)]

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.mount_point)], check=False)

    def fill(self) -> str:
        """Write ballast until the filesystem says ENOSPC, down to the last block."""
        written = 0
        with self._ballast.open("wb", buffering=0) as ballast:
            for chunk in (2**20, 4096, 512):
                written += _write_until_full(ballast.fileno(), chunk)
        free = os.statvfs(self.mount_point).f_bavail
        return (
            f"{self.method}: ENOSPC after {written / 2**20:.1f} MB of ballast, {free} blocks free"
        )

    def free(self) -> None:
        self._ballast.unlink(missing_ok=True)


def _write_until_full(fd: int, chunk: int) -> int:
    written = 0
    block = b"\0" * chunk
    while True:
        try:
            written += os.write(fd, block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise FaultNotInjected(f"filling the disk met {exc}, not ENOSPC") from exc
            return written


async def disk_full(disk: SmallDisk, seconds: float) -> Injection:
    """The SQLite database's filesystem full for ``seconds``, then freed."""
    started = time.monotonic()
    proof = await asyncio.to_thread(disk.fill)
    await asyncio.sleep(seconds)
    disk.free()
    return Injection(f"SQLite disk full {seconds:.0f} s", started, time.monotonic(), proof)
