"""Ingest's HTML reading on hostile markup: 150,000 repeats of a unit that has made naive parsers
quadratic (unclosed tags, comments, processing instructions, nesting), beside ordinary HTML of
the same size. The reading must stay linear: each row's cost near the baseline's.
"""

from __future__ import annotations

import time

from mailmoat.ingest.domain.mime.html import render_html
from mailmoat.ingest.domain.mime.limits import DEFAULT_LIMITS

UNITS = ("<a", "</", "<?", "<!x", "<![", "<b><i>")
REPEATS = 150_000
Row = tuple[str, int, float]


def _seconds(html: str) -> float:
    started = time.perf_counter()
    render_html(html, DEFAULT_LIMITS)
    return time.perf_counter() - started


def run() -> list[Row]:
    """(markup, characters, seconds), the ordinary baseline first."""
    rows: list[Row] = []
    for unit in UNITS:
        html = unit * REPEATS
        ordinary = ("<p>Hello there, see you at noon.</p>" * len(html))[: len(html)]
        if not rows:
            rows.append(("ordinary paragraphs (baseline)", len(ordinary), _seconds(ordinary)))
        rows.append((f"`{unit}` x {REPEATS:,}", len(html), _seconds(html)))
    return rows


def section(rows: list[Row]) -> list[str]:
    lines = [
        "## HTML reading on hostile markup (benchmarks/html_bench.py)",
        "",
        "Ingest's `render_html`, one process. Baseline: ordinary paragraphs of the first row's",
        "size. A parser that backtracks on unclosed constructs would take minutes here.",
        "",
        "| markup | characters | seconds | M chars/s |",
        "|---|---|---|---|",
    ]
    for name, chars, seconds in rows:
        lines.append(f"| {name} | {chars:,} | {seconds:.2f} | {chars / seconds / 1e6:.2f} |")
    return lines
