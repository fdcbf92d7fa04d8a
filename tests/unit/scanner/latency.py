"""Latency report for the checker (not a test: the project forbids timed assertions).

Run: ``.venv/bin/python -m tests.unit.scanner.latency``. Prints median and p95 of
``RuleChecker.judge`` for plain mails and HTML newsletters of typical sizes, built from the
BIPIA clean emails.
"""

from __future__ import annotations

import json
import random
import statistics
import time

from mailmoat.common.mail.structured import HiddenFragment, StructuredMessage
from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.content import ScanContent
from tests.unit.scanner.test_bipia import BIPIA

RUNS = 200
CELL = (
    '<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;color:#333333">'
    '<a href="https://click.news.example.com/ls/click?upn=Q2x1Y2tfaWQ9MTIz{n}" '
    'style="color:#0066cc">{text}</a>&nbsp;</td></tr>\n'
)


def _prose(chars: int, rng: random.Random) -> str:
    lines = (BIPIA / "email_train.jsonl").read_text(encoding="utf-8").splitlines()
    emails = [json.loads(line)["context"] for line in lines]
    return " ".join(rng.sample(emails, len(emails)))[:chars]


def _newsletter(text: str, html_chars: int) -> StructuredMessage:
    rows: list[str] = []
    n, sentences = 0, text.split(". ")
    while sum(len(row) for row in rows) < html_chars:
        rows.append(CELL.format(n=n, text=sentences[n % len(sentences)]))
        n += 1
    html = '<div style="display:none">Your update &zwnj;&nbsp;</div><table>' + "".join(rows)
    preheader = HiddenFragment(kind="css_hidden", text="Your update", part="1")
    return StructuredMessage(
        subject="Update",
        text_body=text,
        html_body=html + "</table>",
        visible_text=text,
        hidden_content=(preheader,),
    )


def _measure(label: str, message: StructuredMessage, checker: RuleChecker) -> None:
    content = ScanContent.from_structured(message)
    checker.judge(content)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        checker.judge(content)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * RUNS) - 1]
    print(f"{label:38s} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms")


def main() -> None:
    rng, checker = random.Random(7), RuleChecker()
    for chars in (5_000, 20_000):
        text = _prose(chars, rng)
        _measure(
            f"plain text {chars // 1000} KB",
            StructuredMessage(text_body=text, visible_text=text),
            checker,
        )
    for html_chars, text_chars in ((20_000, 4_000), (50_000, 8_000)):
        message = _newsletter(_prose(text_chars, rng), html_chars)
        _measure(
            f"newsletter {html_chars // 1000} KB html + {text_chars // 1000} KB text",
            message,
            checker,
        )


if __name__ == "__main__":
    main()
