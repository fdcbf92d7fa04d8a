"""The README's tour, run as written against ``make run``'s stack (``mailmoat dev``): every
command of its shell blocks, in order, in one shell, each answer checked against what the README
says it is. Only the ports differ (free ones, so tests never share a port) and the ``<name>``
placeholders, filled from earlier answers. A read the README states an answer for is asked again
until it gives it (mail takes a moment through the pipeline); a write runs once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailmoat.common.processes import free_port
from tests.e2e.readme_tour import Step, matches, substitute, tour_steps
from tests.support.dev import dev_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("## A tour", "## More of the API")
"""Run one after the other in one shell: the second goes on from where the tour ends."""
SETTLE_SECONDS = 90
WRITES = ("-X POST", "-X PATCH", "-X PUT", "-X DELETE", " -d ", "sendmail", "swaks")


class Shell:
    """One bash that keeps its variables from command to command, as a terminal does."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, command: str) -> tuple[int, str]:
        marker = f"@@{uuid.uuid4().hex}@@"
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{command}\nprintf '\\n{marker} %s\\n' $?\n")
        self.process.stdin.flush()
        lines = []
        for line in self.process.stdout:
            if line.startswith(marker):
                return int(line.split()[1]), "".join(lines)
            lines.append(line)
        raise AssertionError(f"the shell ended during {command!r}: {''.join(lines)}")

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.process.wait(timeout=10)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[dict[str, int]]:
    ports = {"smtp": free_port(), "api": free_port(), "relay": free_port()}
    relay = str(ports["relay"])
    data, log = tmp_path / ".mailmoat", tmp_path / "log"
    with dev_gateway(data, ports["smtp"], ports["api"], log, MAILMOAT_RELAY_PORT=relay):
        yield ports


def on_ports(command: str, ports: dict[str, int]) -> str:
    """The README's ports made this test's, in one pass: a port put in is never read again."""
    ours = {"8080": ports["api"], "2525": ports["smtp"], "2526": ports["relay"]}
    return re.sub("8080|2525|2526", lambda found: str(ours[found.group()]), command)


def answer_of(output: str) -> Any:
    text = output.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def test_the_readme_tour_gives_the_answers_it_states(
    gateway: dict[str, int], tmp_path: Path
) -> None:
    readme = README.read_text()
    steps = [step for heading in SECTIONS for step in tour_steps(readme, heading)]
    for heading in SECTIONS:
        stated = sum(step.expected is not None for step in tour_steps(readme, heading))
        assert stated >= 8, f"{heading} states its answers"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    shell = Shell(tmp_path, env)
    names: dict[str, Any] = {}
    try:
        for step in steps:
            check(shell, step, names, gateway)
    finally:
        shell.close()


def check(shell: Shell, step: Step, names: dict[str, Any], ports: dict[str, int]) -> None:
    # Ports first: an id named earlier may hold "2526" or "8080" too.
    command = substitute(on_ports(step.command, ports), names)
    assert not re.search(r"<[a-z][a-z0-9-]*>", command), f"nothing earlier named it: {command}"
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        status, output = shell.run(command)
        assert status == 0, f"{command}\nexited {status}: {output}"
        answer = answer_of(output)
        if step.expected is None or matches(step.expected, answer, names):
            return
        if any(write in command for write in WRITES) or time.monotonic() > deadline:
            raise AssertionError(f"{command}\nanswered {answer!r}\nREADME: {step.expected!r}")
        time.sleep(1)
