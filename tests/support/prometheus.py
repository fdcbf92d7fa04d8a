"""Debian's ``prometheus`` package (static ``prometheus`` and ``promtool`` binaries), fetched with
apt-get once into ``.tools/prometheus`` at the repository root: the alert rules are checked and
unit-tested by the real promtool, and a real server can run from the same place."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".tools" / "prometheus"
PACKAGE = "prometheus"


class ToolsUnavailable(RuntimeError):
    """The binaries could not be fetched or do not run."""


@dataclass(frozen=True)
class PrometheusTools:
    """Paths of the server and its command-line companion."""

    prometheus: Path
    promtool: Path


def prometheus_tools(home: Path = HOME) -> PrometheusTools:
    """The binaries under ``home``, downloaded and unpacked first unless they already run."""
    tools = installed(home)
    if runs(tools):
        return tools
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=".prometheus-") as scratch:
        _install(Path(scratch), home)
    if not runs(tools):
        raise ToolsUnavailable(f"{tools.promtool} and {tools.prometheus} do not run --version")
    return tools


def installed(home: Path) -> PrometheusTools:
    """Where the package puts its binaries, unpacked under ``home``."""
    return PrometheusTools(home / "usr" / "bin" / "prometheus", home / "usr" / "bin" / "promtool")


def runs(tools: PrometheusTools) -> bool:
    """Whether both binaries exist and answer ``--version``."""
    return all(_answers(binary) for binary in (tools.prometheus, tools.promtool))


def _answers(binary: Path) -> bool:
    if not binary.is_file():
        return False
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _install(scratch: Path, home: Path) -> None:
    """Unpack the package in ``scratch`` and rename it into place: a process running this at
    the same time sees either no tree or a whole one."""
    unpacked = scratch / "root"
    _run("dpkg-deb", "-x", str(_download(scratch)), str(unpacked))
    if home.exists() and not runs(installed(home)):
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            home.rename(scratch / "stale")
    try:
        os.replace(unpacked, home)
    except OSError:
        if not runs(installed(home)):
            raise  # not a tree another process put there first


def _download(scratch: Path) -> Path:
    """The package's .deb, fetched into ``scratch``; the package lists are fetched once first
    when apt cannot find it."""
    if _run("apt-get", "download", PACKAGE, cwd=scratch, check=False).returncode != 0:
        _run("apt-get", "update")
        _run("apt-get", "download", PACKAGE, cwd=scratch)
    debs = sorted(scratch.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise ToolsUnavailable(f"apt-get download {PACKAGE} left no .deb in {scratch}")
    return debs[0]


def _run(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolsUnavailable(f"{' '.join(args)} could not run: {exc}") from exc
    if check and done.returncode != 0:
        raise ToolsUnavailable(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done
