"""The README's tour as data: its shell commands, in order, each with the answer the README says
it gives, and a matcher that checks an answer against that statement.

A command is one shell line, with its ``\\`` continuations, open quotes and here-document.
The comment lines right after it that start with ``# ->`` (and the ``#`` lines that continue
them) state its answer: JSON (or, for an answer that is not JSON, its text), in which ``"..."``
stands for any value, a string ending in ``...`` for any string it begins, a list for a list
holding a match of each of its items, and ``"<name>"`` for any value, which is kept and put in
place of ``<name>`` in every later command.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_NAME = re.compile(r"^<([a-z][a-z0-9-]*)>$")
ANY = "..."


@dataclass(frozen=True)
class Step:
    """One command of the tour and the answer the README states for it (None: not stated)."""

    command: str
    expected: Any = None


def tour_steps(readme: str, heading: str) -> list[Step]:
    """The steps of every ``sh`` block in the section under ``heading``, in order."""
    start = readme.index(heading)
    following = readme.find("\n## ", start + len(heading))
    section = readme[start : following if following >= 0 else len(readme)]
    steps: list[Step] = []
    for block in _BLOCK.findall(section):
        steps += _steps(block.splitlines())
    return steps


def _steps(lines: list[str]) -> list[Step]:
    steps: list[Step] = []
    command: list[str] = []
    stated: list[str] | None = None
    for line in [*lines, ""]:
        stripped = line.strip()
        if stripped.startswith("# ->"):
            stated = [stripped[len("# ->") :]]
            continue
        if stated is not None and stripped.startswith("#  "):
            stated.append(stripped[1:])
            continue
        if stated is not None:
            steps[-1] = Step(steps[-1].command, _stated(" ".join(stated)))
            stated = None
        if not command and (not stripped or stripped.startswith("#")):
            continue
        command.append(line)
        if _complete(command):
            steps.append(Step("\n".join(command)))
            command = []
    return steps


def _stated(text: str) -> Any:
    """A stated answer: JSON, or else the text an answer that is not JSON begins with."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def _complete(lines: list[str]) -> bool:
    """Whether these lines make a whole command: no ``\\`` continuation, no quote left open,
    no here-document left unterminated."""
    if lines[-1].endswith("\\"):
        return False
    here = _HEREDOC.search(lines[0])
    if here:
        return len(lines) > 1 and lines[-1].strip() == here.group(1)
    try:
        shlex.split("\n".join(lines), comments=True)
    except ValueError:
        return False
    return True


def matches(expected: Any, answer: Any, names: dict[str, Any]) -> bool:
    """True when ``answer`` is what ``expected`` states; a ``<name>`` bound earlier must match
    the same value again, and ``names`` gets what new ones matched (only on a whole match)."""
    found = dict(names)
    if not _match(expected, answer, found):
        return False
    names.update(found)
    return True


def _match(expected: Any, answer: Any, found: dict[str, Any]) -> bool:
    if isinstance(expected, str):
        name = _NAME.match(expected)
        if expected == ANY:
            return True
        if name:
            if name.group(1) in found:
                return bool(found[name.group(1)] == answer)
            found[name.group(1)] = answer
            return answer is not None
        if expected.endswith(ANY) and isinstance(answer, str):
            return answer.startswith(expected[: -len(ANY)])
        return expected == answer
    if isinstance(expected, dict):
        return isinstance(answer, dict) and all(
            key in answer and _match(value, answer[key], found) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(answer, list) and all(
            any(_try(item, candidate, found) for candidate in answer) for item in expected
        )
    return bool(expected == answer)


def _try(expected: Any, answer: Any, found: dict[str, Any]) -> bool:
    """Match one list item, keeping the names it binds only when it matches."""
    trial = dict(found)
    if not _match(expected, answer, trial):
        return False
    found.update(trial)
    return True


def substitute(command: str, names: dict[str, Any]) -> str:
    """``<name>`` in a command replaced by what it matched earlier."""
    return re.sub(
        r"<([a-z][a-z0-9-]*)>",
        lambda m: str(names[m.group(1)]) if m.group(1) in names else m.group(0),
        command,
    )
