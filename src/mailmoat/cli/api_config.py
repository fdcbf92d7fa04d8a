"""Where the people's commands find the gateway and their key: ``MAILMOAT_API_URL`` and
``MAILMOAT_API_KEY``, else the config file ``mailmoat configure`` writes (``$MAILMOAT_CONFIG``,
by default ``~/.config/mailmoat/config.json``), which must be private to its owner, as ssh
insists of its keys."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8080"


class ConfigError(Exception):
    """No key, or a config file that cannot be trusted; the message says what to do."""


@dataclass(frozen=True)
class ApiConfig:
    url: str
    key: str


def config_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    if explicit := env.get("MAILMOAT_CONFIG"):
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mailmoat" / "config.json"


def load(env: dict[str, str] | None = None) -> ApiConfig:
    """The URL and key: the environment first, then the file."""
    env = dict(os.environ) if env is None else env
    stored = _read(config_path(env))
    url = env.get("MAILMOAT_API_URL") or stored.get("api_url") or DEFAULT_URL
    key = env.get("MAILMOAT_API_KEY") or stored.get("api_key")
    if not key:
        raise ConfigError(
            "no API key: set MAILMOAT_API_KEY or run 'mailmoat configure' (a person's key for "
            "reviewing, an agent's for sending)"
        )
    return ApiConfig(url=url, key=key)


def save(config: ApiConfig, env: dict[str, str] | None = None) -> Path:
    """Write the file readable by its owner alone (the folder too)."""
    path = config_path(env)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"api_url": config.url, "api_key": config.key}, indent=2) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(body)
    return path


def _read(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} can be read by others (mode {stat.S_IMODE(mode):04o}): it holds an API key; "
            f"run 'chmod 600 {path}'"
        )
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as broken:
        raise ConfigError(f"{path} is not a readable JSON file: {broken}") from broken
    if not isinstance(stored, dict):
        raise ConfigError(f"{path} must hold a JSON object with api_url and api_key")
    return {k: str(v) for k, v in stored.items() if k in ("api_url", "api_key")}
