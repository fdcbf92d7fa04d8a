"""The operator's commands that never use the deployment secret run without it; the ones that
derive a key from it, and the services, refuse with one line naming it, never a traceback."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from mailmoat.common.settings import SECRET_ENV

MAILMOAT = str(Path(sys.executable).with_name("mailmoat"))
REFUSED = f"set a real secret in {SECRET_ENV}, not a placeholder"
KEY_FILE_ENV = "MAILMOAT_AUDIT_CHECKPOINT_KEY_FILE"


def _mailmoat(
    tmp_path: Path, *args: str, secret: str | None = None, key_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    unset = (SECRET_ENV, KEY_FILE_ENV)
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env["MAILMOAT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'operator.db'}"
    if secret is not None:
        env[SECRET_ENV] = secret
    if key_file is not None:
        env[KEY_FILE_ENV] = str(key_file)
    return subprocess.run(
        [MAILMOAT, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_commands_that_never_use_the_secret_run_without_it(tmp_path: Path) -> None:
    migrated = _mailmoat(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    made = _mailmoat(tmp_path, "admin", "bootstrap", "--workspace", "ops")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["api_key"]
    letters = _mailmoat(tmp_path, "dlq", "list")
    assert (letters.returncode, letters.stdout) == (0, "")
    policy = tmp_path / "candidate.yaml"
    policy.write_text('inboxes:\n  "*": {data_leak_action: reject}\n')
    replayed = _mailmoat(tmp_path, "replay", "--since", "1h", "--policy", str(policy), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["sends"] == 0


def test_what_needs_the_secret_names_it_in_one_line(tmp_path: Path) -> None:
    assert _mailmoat(tmp_path, "migrate").returncode == 0
    workspace = str(uuid.uuid4())
    for args, command in (
        (("admin", "audit-key"), "mailmoat"),
        (("admin", "audit-verify", "--workspace", workspace), "mailmoat"),
        (("run", "policy"), "mailmoat run"),
        (("run", "ingest", "gateway"), "mailmoat run"),
    ):
        refused = _mailmoat(tmp_path, *args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert refused.stderr.splitlines() == [f"{command}: {REFUSED}"], args
    placeholder = _mailmoat(tmp_path, "admin", "audit-key", secret="changeme")
    assert placeholder.stderr.splitlines() == [f"mailmoat: {REFUSED}"]
    derived = _mailmoat(tmp_path, "admin", "audit-key", secret="a-real-deployment-secret-value")
    assert derived.returncode == 0, derived.stderr
    # With the checkpoint key in a file of its own, the secret is not needed for it.
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "checkpoint.pem"
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    own = _mailmoat(tmp_path, "admin", "audit-key", key_file=key_file)
    assert own.returncode == 0, own.stderr
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert json.loads(own.stdout)["public_key"] == base64.b64encode(raw).decode()
    assert json.loads(derived.stdout)["public_key"] != json.loads(own.stdout)["public_key"]
