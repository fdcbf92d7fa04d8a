"""A deployment checks itself end to end (the Helm chart's ``helm test`` Pod runs this): one mail
over SMTP to a test inbox, read back through the API. Exit 0 when the mail is listed, 1 when it
is not within the time allowed, 2 when a setting is missing.

Settings, from the environment: ``SELFTEST_SMTP`` (host:port), ``SELFTEST_API`` (the API's base
URL, ``.../api/v1``), ``SELFTEST_API_KEY`` (a person's key: it creates the inbox if missing and
reads mail), ``SELFTEST_INBOX`` (slug), ``SELFTEST_DOMAIN`` (the inboxes' mail domain) and
``SELFTEST_TIMEOUT_SECONDS`` (120 by default).
"""

from __future__ import annotations

import json
import os
import smtplib
import sys
import time
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from typing import Any

POLL_SECONDS = 2.0


def _call(api: str, key: str, method: str, path: str, body: object = None) -> tuple[int, Any]:
    if not api.startswith(("http://", "https://")):
        raise ValueError(f"SELFTEST_API must be an http(s) URL, not {api!r}")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{api}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def run(environ: dict[str, str]) -> int:
    try:
        smtp, api, key = (
            environ["SELFTEST_SMTP"],
            environ["SELFTEST_API"],
            environ["SELFTEST_API_KEY"],
        )
        inbox, domain = environ["SELFTEST_INBOX"], environ["SELFTEST_DOMAIN"]
    except KeyError as missing:
        print(f"selftest: {missing.args[0]} is not set", file=sys.stderr)
        return 2
    timeout = float(environ.get("SELFTEST_TIMEOUT_SECONDS", "120"))
    status, answer = _call(api, key, "POST", "/inboxes", {"slug": inbox, "security_level": "L2"})
    if status not in (201, 409):
        print(f"selftest: creating inbox {inbox!r} answered {status}: {answer}", file=sys.stderr)
        return 1
    subject = f"mailmoat selftest {uuid.uuid4().hex[:12]}"
    mail = EmailMessage()
    mail["From"] = "selftest@example.org"
    mail["To"] = f"{inbox}@{domain}"
    mail["Subject"] = subject
    mail.set_content("A deployment check: this mail should reach the inbox and be listed.")
    host, _, port = smtp.rpartition(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=30) as client:
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as refused:
        print(f"selftest: SMTP at {smtp} did not take the mail: {refused}", file=sys.stderr)
        return 1
    print(f"selftest: sent {subject!r} to {inbox}@{domain} over {smtp}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, page = _call(api, key, "GET", f"/inboxes/{inbox}/messages?limit=50")
        if status == 200 and any(m.get("subject") == subject for m in page["items"]):
            print("selftest: the mail was scanned, stored and listed by the API")
            return 0
        time.sleep(POLL_SECONDS)
    print(f"selftest: {subject!r} was not listed within {timeout:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(run(dict(os.environ)))
