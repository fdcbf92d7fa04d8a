"""DNS adapters: the in-memory resolver (dict and zone files), timeouts, the live resolver over a
real local DNS server, and the per-mail budget."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mailmoat.ingest.adapters.dns import DnsTempError
from mailmoat.ingest.adapters.dns.budget import BudgetedResolver, DnsAllowance, DnsBudget
from mailmoat.ingest.adapters.dns.factory import build_resolver
from mailmoat.ingest.adapters.dns.live import LiveResolver
from mailmoat.ingest.adapters.dns.static import StaticResolver
from tests.support.dns_server import Records, dns_server

ZONE = """\
$TTL 300
$ORIGIN example.com.
@        IN TXT "v=spf1 " "ip4:192.0.2.1 -all"
@        IN MX  10 mail
mail     IN A   192.0.2.1
mail     IN AAAA 2001:db8::1
www      IN CNAME mail
_dmarc   IN TXT "v=DMARC1; p=reject"
$ORIGIN example.org.
*.wild   IN TXT "star"
a.b.deep IN A   198.51.100.7
1.2.0.192.in-addr.arpa. IN PTR mail.example.com.
"""


@pytest.fixture
def zone_file(tmp_path: Path) -> Path:
    path = tmp_path / "zones.db"
    path.write_text(ZONE)
    return path


def test_zone_file_answers_in_presentation_form(zone_file: Path) -> None:
    resolver = StaticResolver.from_zone_file(zone_file)
    assert resolver.lookup("example.com", "TXT") == ("v=spf1 ip4:192.0.2.1 -all",)
    assert resolver.lookup("EXAMPLE.com.", "mx") == ("10 mail.example.com",)
    assert resolver.lookup("mail.example.com", "AAAA") == ("2001:db8::1",)
    assert resolver.lookup("1.2.0.192.in-addr.arpa", "PTR") == ("mail.example.com",)
    assert resolver.lookup("_dmarc.example.com", "TXT") == ("v=DMARC1; p=reject",)


def test_cnames_and_wildcards_are_followed(zone_file: Path) -> None:
    resolver = StaticResolver.from_zone_file(zone_file)
    assert resolver.lookup("www.example.com", "A") == ("192.0.2.1",)
    assert resolver.lookup("www.example.com", "CNAME") == ("mail.example.com",)
    assert resolver.lookup("anything.wild.example.org", "TXT") == ("star",)
    assert resolver.lookup("nothing.example.org", "TXT") == ()


def test_existence_counts_empty_non_terminals(zone_file: Path) -> None:
    resolver = StaticResolver.from_zone_file(zone_file)
    assert resolver.exists("b.deep.example.org")
    assert resolver.exists("mail.example.com")
    assert not resolver.exists("absent.example.com")
    assert resolver.lookup("b.deep.example.org", "A") == ()


def test_directory_of_zone_files(tmp_path: Path) -> None:
    (tmp_path / "a.zone").write_text('$ORIGIN a.test.\n@ TXT "one"\n')
    (tmp_path / "b.zone").write_text('b.test. 60 IN TXT "two"\n')
    resolver = StaticResolver.from_zone_file(tmp_path)
    assert resolver.lookup("a.test", "TXT") == ("one",)
    assert resolver.lookup("b.test", "TXT") == ("two",)


def test_timeouts_by_name_and_by_type() -> None:
    resolver = StaticResolver(
        {"slow.test": {"TXT": ["x"]}, "half.test": {"TXT": ["y"]}},
        timeouts=["slow.test", ("half.test", "A")],
    )
    with pytest.raises(DnsTempError):
        resolver.lookup("slow.test", "TXT")
    with pytest.raises(DnsTempError):
        resolver.exists("SLOW.test.")
    assert resolver.lookup("half.test", "TXT") == ("y",)
    with pytest.raises(DnsTempError):
        resolver.lookup("half.test", "a")


def test_cname_loop_is_a_temporary_error() -> None:
    resolver = StaticResolver({"a.test": {"CNAME": ["b.test"]}, "b.test": {"CNAME": ["a.test"]}})
    with pytest.raises(DnsTempError):
        resolver.lookup("a.test", "A")


def test_factory_prefers_the_zone_file(zone_file: Path) -> None:
    assert isinstance(build_resolver(zone_file, 1.0, ()), StaticResolver)
    assert isinstance(build_resolver(None, 1.0, ["127.0.0.1"]), LiveResolver)


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A bound UDP socket that never answers: every query to it times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_live_resolver_times_out_quickly(silent_udp_port: int) -> None:
    resolver = LiveResolver(timeout_seconds=0.2, nameservers=["127.0.0.1"], port=silent_udp_port)
    started = time.monotonic()
    with pytest.raises(DnsTempError):
        resolver.lookup("example.com", "TXT")
    assert time.monotonic() - started < 2.0


def test_live_resolver_refuses_unrepresentable_names() -> None:
    resolver = LiveResolver(timeout_seconds=0.2, nameservers=["127.0.0.1"])
    assert resolver.lookup("a..b.test", "TXT") == ()


def test_live_resolver_gives_a_query_no_more_than_its_lifetime(silent_udp_port: int) -> None:
    resolver = LiveResolver(timeout_seconds=5.0, nameservers=["127.0.0.1"], port=silent_udp_port)
    started = time.monotonic()
    with pytest.raises(DnsTempError):
        resolver.lookup("example.com", "TXT", lifetime=0.2)
    with pytest.raises(DnsTempError):
        resolver.exists("example.com", lifetime=0.0)
    assert time.monotonic() - started < 1.5


def test_live_resolver_over_a_real_server_on_another_port() -> None:
    records: Records = {
        "a.test": {"TXT": ["v=spf1 -all"], "A": ["192.0.2.1"]},
        "x.deep.test": {"A": []},
    }
    with dns_server(records=records, black_holes=["hole.test"]) as (host, port):
        resolver = build_resolver(None, 2.0, [host], port)
        assert resolver.lookup("a.test", "TXT") == ("v=spf1 -all",)
        assert resolver.lookup("A.test.", "a") == ("192.0.2.1",)
        assert resolver.lookup("a.test", "MX") == ()
        assert resolver.lookup("absent.test", "TXT") == ()
        assert resolver.exists("deep.test")
        assert not resolver.exists("absent.test")
        started = time.monotonic()
        with pytest.raises(DnsTempError):
            resolver.lookup("s1._domainkey.hole.test", "TXT", lifetime=0.3)
        assert time.monotonic() - started < 1.5


@dataclass
class FakeClock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingDns:
    """Answers every TXT with one record; remembers each query's lifetime; can stall or fail."""

    clock: FakeClock
    stall: float = 0.0
    fail: bool = False
    lifetimes: list[float | None] = field(default_factory=list)

    def lookup(self, name: str, rdtype: str, *, lifetime: float | None = None) -> tuple[str, ...]:
        self.lifetimes.append(lifetime)
        self.clock.now += self.stall if lifetime is None else min(self.stall, lifetime)
        if self.fail:
            raise DnsTempError("no answer")
        return ("v=spf1 -all",)

    def exists(self, name: str, *, lifetime: float | None = None) -> bool:
        return bool(self.lookup(name, "A", lifetime=lifetime))


def budgeted(
    dns: RecordingDns, seconds: float = 10.0, queries: int = 5
) -> tuple[BudgetedResolver, DnsBudget]:
    budget = DnsAllowance(seconds=seconds, max_queries=queries).start(dns.clock)
    return BudgetedResolver(dns, budget), budget


def test_each_query_gets_what_is_left_of_the_budget() -> None:
    dns = RecordingDns(FakeClock(), stall=3.0)
    resolver, budget = budgeted(dns, seconds=10.0)
    for _ in range(3):
        assert resolver.lookup("a.test", "TXT") == ("v=spf1 -all",)
    assert resolver.exists("a.test")
    assert dns.lifetimes == [10.0, 7.0, 4.0, 1.0]
    with pytest.raises(DnsTempError):
        resolver.lookup("b.test", "TXT")
    assert len(dns.lifetimes) == 4  # refused without asking
    assert budget.exhausted


def test_the_query_count_is_capped() -> None:
    dns = RecordingDns(FakeClock())
    resolver, budget = budgeted(dns, queries=2)
    resolver.lookup("a.test", "TXT")
    resolver.lookup("b.test", "TXT")
    assert not budget.exhausted
    with pytest.raises(DnsTempError, match="2 queries"):
        resolver.lookup("c.test", "TXT")
    assert budget.exhausted
    assert budget.spent()


def test_a_timeout_within_the_budget_is_not_exhaustion() -> None:
    dns = RecordingDns(FakeClock(), stall=3.0, fail=True)
    resolver, budget = budgeted(dns, seconds=10.0)
    with pytest.raises(DnsTempError):
        resolver.lookup("slow.test", "TXT")
    assert not budget.exhausted
    assert budget.remaining() == pytest.approx(7.0)


def test_a_timeout_cut_short_by_the_deadline_is_exhaustion() -> None:
    dns = RecordingDns(FakeClock(), stall=30.0, fail=True)
    resolver, budget = budgeted(dns, seconds=10.0)
    with pytest.raises(DnsTempError):
        resolver.lookup("slow.test", "TXT")
    assert dns.lifetimes == [10.0]
    assert budget.exhausted
