"""The dispatch benchmark's section of BENCHMARKS.md (the measurements: ``dispatch_bench``)."""

from __future__ import annotations

import statistics

from benchmarks.databases import NAMES
from benchmarks.dispatch_bench import FLOOD, SOURCE_LENGTH, DispatchResult, p95


def section(results: dict[str, DispatchResult | str] | str, count: int, paced: int) -> list[str]:
    lines = [
        "## Dispatch (send-approved to the relay's 250) and webhook delivery",
        "",
        "Command: `python -m benchmarks.dispatch_bench`. Relay: Postfix's `smtp-sink` on",
        f"loopback. Baseline: Postfix's `smtp-source` sending {count} messages of {SOURCE_LENGTH}",
        "bytes into it over one reused connection (`-d -s 1`).",
        "Mailmoat: the dispatch service as its own process on the embedded broker (tansu), on a",
        "fresh SQLite file and on a PostgreSQL cluster (fsync on), claiming each approved send",
        "with its send-time checks, committing the claim before the relay is called,",
        "DKIM-signing (rsa-sha256, 2048 bits) and recording the outcome; ~2 KB messages.",
        f"Throughput: {count} approvals published at once, timed until the last `sent` event.",
        f"Latency: {paced} approvals one at a time, from publish to dispatch's `sent` event",
        "(written on the relay's reply). Target: at least 300 sends/s.",
        "",
    ]
    if isinstance(results, str):
        return [*lines, f"Not measured: {results}.", ""]
    ran = {kind: r for kind, r in results.items() if not isinstance(r, str)}
    lines += [f"{NAMES[kind]}: {r}." for kind, r in results.items() if isinstance(r, str)]
    if not ran:
        return [*lines, ""]
    base = next(iter(ran.values())).baseline
    names = [NAMES[kind] for kind in ran]
    lines += [
        "| measure | Postfix smtp-source | "
        + " | ".join(f"Mailmoat dispatch, {name}" for name in names)
        + " |",
        "|---|---|" + "---|" * len(ran),
        f"| messages per second (ratio to baseline) | {base.per_second:.0f} | "
        + " | ".join(
            f"{r.burst.per_second:.0f} ({r.burst.per_second / base.per_second:.3f})"
            for r in ran.values()
        )
        + " |",
        f"| mean time per message (ms) | {1000 / base.per_second:.2f} | "
        + " | ".join(f"{1000 / r.burst.per_second:.2f}" for r in ran.values())
        + " |",
        "| send-approved to 250, p50 / p95 (ms), one at a time | | "
        + " | ".join(
            f"{statistics.median(r.latencies_ms):.1f} / {p95(r.latencies_ms):.1f}"
            for r in ran.values()
        )
        + " |",
        f"| webhook delivery, p50 / p95 (ms), {paced} one at a time | | "
        + " | ".join(
            f"{statistics.median(r.webhook_ms):.1f} / {p95(r.webhook_ms):.1f}" for r in ran.values()
        )
        + " |",
        "| reputation: counted the burst, seconds after the last send | | "
        + " | ".join(f"{r.reputation_lag_s:.2f}" for r in ran.values())
        + " |",
        f"| reputation: {FLOOD} `sent` events published at once, counted per second | | "
        + " | ".join(f"{r.reputation.per_second:.0f}" for r in ran.values())
        + " |",
        "| sends failed | | " + " | ".join(str(r.failed) for r in ran.values()) + " |",
        "",
        "Webhook delivery: `outbound.sent` events published one at a time on `inbox-events`,",
        "to the receiver's 2xx (a local HTTP server, signatures made, the delivery recorded",
        "before and after the call). Reputation runs as its own process beside dispatch, as in",
        "production, counting every `sent` event into its hourly windows and judging the sender",
        "after each; its rate on the flood is "
        + (
            "above dispatch's peak rate on each database."
            if all(r.reputation.per_second > r.burst.per_second for r in ran.values())
            else "BELOW dispatch's peak rate on at least one database: it would fall behind."
        ),
        "",
        "Dispatch claims up to 20 approved sends in one transaction (committed before the relay",
        "is called for any of them) and records their outcomes in one, so a burst costs two",
        "durable commits per 20 sends rather than two per send; the RSA signature is",
        "`cryptography`'s (about 0.8 ms for 2048 bits; dkimpy's pure-Python one took about",
        "7.5 ms). smtp-source writes nothing to disk and signs nothing.",
        "",
    ]
    return lines
