"""``make run`` stopped with Ctrl-C in the middle of a burst and started again: every mail
answered 250 before the stop is stored and decided after the restart. The embedded broker keeps
its log in memory, so whatever it held at the stop is gone; the restart publishes it again from
the database."""

from __future__ import annotations

import json
import smtplib
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from mailmoat.common.processes import free_port
from tests.support.dev import ctrl_c, dev_gateway

ADDRESS = "burst@agents.mailmoat.localhost"
STOP_AFTER_ACCEPTED = 20
TERMINAL = {"delivered", "review", "withheld", "quarantined"}


def burst(port: int, accepted: list[int], stop: threading.Event) -> None:
    """Mail after mail on one connection until the gateway goes away; ``accepted`` gets the
    number of each mail answered 250."""
    n = 0
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            while True:
                body = f"From: a@example.com\r\nSubject: burst {n}\r\n\r\nhello {n}\r\n".encode()
                client.sendmail("a@example.com", [ADDRESS], body)
                accepted.append(n)
                if len(accepted) == STOP_AFTER_ACCEPTED:
                    stop.set()
                n += 1
    except (smtplib.SMTPException, OSError):
        stop.set()  # the gateway stopped: what was answered 250 is in ``accepted``


def stored(database: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return dict(db.execute("SELECT subject, status FROM messages").fetchall())


@pytest.mark.timeout(900)  # two start-ups of the whole gateway and the recovery
def test_ctrl_c_mid_burst_then_restart_stores_every_accepted_mail(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "dev.log"
    smtp, api = free_port(), free_port()
    accepted: list[int] = []
    with dev_gateway(data, smtp, api, log, MAILMOAT_REDRIVE_INTERVAL_SECONDS="2") as first:
        keys = json.loads((data / "bootstrap-key.json").read_text())
        created = httpx.post(
            f"http://127.0.0.1:{api}/api/v1/inboxes",
            headers={"Authorization": f"Bearer {keys['api_key']}"},
            json={"slug": "burst", "security_level": "L2"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        stop = threading.Event()
        sender = threading.Thread(target=burst, args=(smtp, accepted, stop), daemon=True)
        sender.start()
        assert stop.wait(timeout=120), "the burst never reached its stopping point"
        ctrl_c(first)
        sender.join(timeout=30)
        assert first.returncode is not None  # the stop happened mid-burst
    assert len(accepted) >= STOP_AFTER_ACCEPTED
    database = data / "mailmoat.db"
    expected = {f"burst {n}" for n in accepted}
    missing_at_stop = expected - set(stored(database))

    with dev_gateway(data, smtp, api, log, MAILMOAT_REDRIVE_INTERVAL_SECONDS="2"):
        deadline = time.monotonic() + 240
        while True:
            messages = stored(database)
            missing = expected - set(messages)
            undecided = {s for s in expected - missing if messages[s] not in TERMINAL}
            if not missing and not undecided:
                break
            assert time.monotonic() < deadline, (
                f"{len(missing)} of {len(expected)} accepted mails never stored "
                f"({len(missing_at_stop)} missing at the stop), {len(undecided)} undecided; "
                f"log tail: {log.read_text(errors='replace')[-3000:]}"
            )
            time.sleep(0.5)
    assert missing_at_stop, "the stop lost nothing in flight: the test proved nothing"
