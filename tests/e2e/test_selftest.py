"""The deployment self-check the Helm chart's ``helm test`` Pod runs: one mail over SMTP, read
back through the API; it fails when the mail never shows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from tests.support.stack import ProcessStack

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def selftest(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailmoat.cli.selftest"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_self_check_mails_itself_and_reads_the_mail_back(
    stack: ProcessStack, settings: CommonSettings
) -> None:
    made = await bootstrap_workspace(settings.database_url, name="selftest", plan="startup")
    env = {
        "SELFTEST_SMTP": f"127.0.0.1:{stack.smtp_port}",
        "SELFTEST_API": stack.api,
        "SELFTEST_API_KEY": made.api_key,
        "SELFTEST_INBOX": "helm-test",
        "SELFTEST_DOMAIN": settings.mail_domain,
        "SELFTEST_TIMEOUT_SECONDS": "60",
    }
    first = await asyncio.to_thread(selftest, env)
    assert first.returncode == 0, first.stderr
    assert "listed by the API" in first.stdout
    again = await asyncio.to_thread(selftest, env)  # the inbox exists: still passes
    assert again.returncode == 0, again.stderr

    # Mail for a domain the gateway does not serve is refused at SMTP: reported, not passed.
    refused = await asyncio.to_thread(selftest, {**env, "SELFTEST_DOMAIN": "not-ours.example"})
    assert refused.returncode == 1
    assert "did not take the mail" in refused.stderr
