"""Where each service's CPU goes: py-spy samples every service process while the pipeline bench's
sustained phase runs, and the report says, per process, what share of the samples ran in which
code (Mailmoat's own, the database layer, the broker client, pydantic, logging and telemetry, the
event loop, the detectors' model...) and which of Mailmoat's functions the most samples ran
under (inclusive: the function or anything it called).

py-spy reads the processes' memory from outside, pausing each for a moment per sample, which
costs the phase some speed; hence a run of its own. Only samples of a thread at work count: one
whose innermost line is a blocking wait (an event loop's ``select``, a worker thread's queue
``get``, a condition's ``wait``) is idle, as py-spy cannot always tell.
"""

from __future__ import annotations

import linecache
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RATE = 100
"""Samples a second for each process."""
TOP = 6
"""Mailmoat functions listed per process."""
BLOCKING = re.compile(r"\.select\(|\bwait\(|\.get\((block=True)?\)|\.acquire\(|\bpoll\(")
"""A source line that blocks its thread until something happens."""

AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Mailmoat", ("mailmoat",)),
    ("database", ("sqlalchemy", "psycopg", "aiosqlite", "sqlite3", "greenlet")),
    ("broker client", ("aiokafka", "faststream", "kafka")),
    ("pydantic", ("pydantic", "pydantic_core", "typing", "annotated_types")),
    ("logs, traces, metrics", ("logging", "json", "opentelemetry", "prometheus_client")),
    ("event loop", ("asyncio", "selectors", "socket", "ssl", "threading", "concurrent")),
    ("mail parsing, auth", ("email", "dkim", "dns", "spf", "authres", "aiosmtpd", "mailparser")),
    ("detectors' model", ("sklearn", "numpy", "scipy", "joblib", "re", "unicodedata")),
)
"""Where a sample's innermost frame lives, by its module's first name (the first that matches)."""


def py_spy() -> str:
    """The py-spy executable: the project environment's (a dev dependency), else the PATH's."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed (make sync installs it)")
    return found


@contextmanager
def sampling(pids: dict[str, int], folder: Path) -> Iterator[dict[str, Path]]:
    """Sample each of ``pids`` (by name) into ``folder/<name>.txt`` (py-spy's raw, collapsed
    stacks) while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {name: folder / f"{name}.txt" for name in pids}
    record = [py_spy(), "record", "--rate", str(RATE), "--format", "raw", "--full-filenames"]
    samplers = [
        subprocess.Popen(
            [*record, "--pid", str(pid), "--output", str(outputs[name])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        yield outputs
    finally:
        for sampler in samplers:
            if sampler.poll() is None:
                os.kill(sampler.pid, signal.SIGINT)  # py-spy writes what it has and exits
        for sampler in samplers:
            try:
                sampler.wait(timeout=60)
            except subprocess.TimeoutExpired:
                sampler.kill()
                sampler.wait()


@dataclass(frozen=True)
class Profile:
    """One process's samples: each stack (outermost frame first) and how often it was seen."""

    name: str
    stacks: Counter[tuple[str, ...]]

    @classmethod
    def read(cls, name: str, path: Path) -> Profile:
        """The busy samples of py-spy's raw output at ``path``."""
        stacks: Counter[tuple[str, ...]] = Counter()
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                frames, _, count = line.rpartition(" ")
                stack = tuple(frames.split(";"))
                if frames and count.isdigit() and not waiting(stack[-1]):
                    stacks[stack] += int(count)
        return cls(name, stacks)

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())

    def areas(self) -> list[tuple[str, float]]:
        """Each area's share of the samples, by the innermost frame, largest first."""
        found: Counter[str] = Counter()
        for stack, count in self.stacks.items():
            found[area(module(stack[-1]))] += count
        total = self.samples or 1
        return [(name, n / total) for name, n in found.most_common()]

    def heaviest(self, top: int = TOP) -> list[tuple[str, float]]:
        """Mailmoat's functions with the largest inclusive share of the samples."""
        found: Counter[str] = Counter()
        for stack, count in self.stacks.items():
            ours = {function(f) for f in stack if module(f) == "mailmoat" and not _cli(f)}
            for name in ours:
                found[name] += count
        total = self.samples or 1
        return [(name, n / total) for name, n in found.most_common(top)]


def module(frame: str) -> str:
    """The first name of the module a frame ``function (/full/path/file.py:line)`` ran in:
    ``mailmoat`` for the project's own code, else the installed or standard module."""
    path = _path(frame)
    if "/site-packages/" in path:
        path = path.rpartition("/site-packages/")[2]
    elif "/mailmoat/" in path:
        return "mailmoat"
    elif "/lib/python3" in path:
        path = path.rpartition("/lib/python3")[2].partition("/")[2]
    return path.split("/", 1)[0].removesuffix(".py")


def function(frame: str) -> str:
    """A frame without its line, its file from ``mailmoat/`` on: ``name (mailmoat/x/y.py)``."""
    name = frame.rpartition(" (")[0]
    path = _path(frame)
    return f"{name} (mailmoat/{path.rpartition('/mailmoat/')[2]})"


def waiting(frame: str) -> bool:
    """Whether the frame's line is a blocking wait (the thread is idle there)."""
    path, _, line = frame.rpartition(" (")[2].rstrip(")").rpartition(":")
    source = linecache.getline(path, int(line)) if line.isdigit() else ""
    return bool(BLOCKING.search(source))


def _cli(frame: str) -> bool:
    """The command line's frames: under every sample of a process, they say nothing."""
    return "/mailmoat/cli/" in _path(frame)


def _path(frame: str) -> str:
    return frame.rpartition(" (")[2].rstrip(")").rpartition(":")[0]


def area(first: str) -> str:
    for name, modules in AREAS:
        if first in modules:
            return name
    return "other"


def rows(profiles: list[Profile]) -> list[str]:
    """The Markdown for BENCHMARKS.md: per process, its areas, then its heaviest functions."""
    lines = [
        "| process | samples | where the innermost frame ran (share of samples) |",
        "|---|---:|---|",
    ]
    for profile in profiles:
        areas = ", ".join(f"{name} {share:.0%}" for name, share in profile.areas() if share >= 0.01)
        lines.append(f"| {profile.name} | {profile.samples} | {areas} |")
    lines += ["", "| process | Mailmoat functions with the most samples, inclusive |", "|---|---|"]
    for profile in profiles:
        heaviest = "<br>".join(
            f"{share:.0%} `{name}`" for name, share in profile.heaviest() if share >= 0.02
        )
        lines.append(f"| {profile.name} | {heaviest} |")
    return lines
