"""Process helpers: free ports, readiness waits (blocking or awaited), children that die with
their parent."""

from __future__ import annotations

import asyncio
import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable

PR_SET_PDEATHSIG = 1


_GIVEN: set[int] = set()
"""Ports ``free_port`` handed out in this process."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, and not one this process was given before: the
    kernel may hand a port just released out again, and two servers started together (an API
    and a metrics endpoint) would then be given the same one."""
    while True:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def wait_for_port(host: str, port: int, *, timeout: float = 20.0) -> None:
    """Block until something accepts connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def die_with_parent() -> None:
    """``preexec_fn`` making the child receive SIGTERM when its parent dies (Linux), so a killed
    supervisor leaves no orphans; elsewhere process groups are the only guard."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def terminate_all(processes: Iterable[subprocess.Popen[bytes]], *, timeout: float = 15.0) -> None:
    """SIGTERM every live process, wait for each, SIGKILL the ones that overstay ``timeout``."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def listening(host: str, port: int) -> None:
    """Wait, without blocking the event loop, until something accepts connections on
    ``host:port`` (bound it with ``asyncio.timeout``)."""
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
