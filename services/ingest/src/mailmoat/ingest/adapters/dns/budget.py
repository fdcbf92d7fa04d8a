"""A per-mail DNS budget: every lookup of one mail's authentication shares one deadline and one
query count, so no mail holds an analysis worker on DNS past its budget, whatever it carries
(ten DKIM signatures, fifty ARC sets, an SPF tree) and however slow the servers it names.

Only a spent budget fails the analysis (the mail is quarantined). A query that times out on its
own within the budget stays an ordinary temperror, because a resolver outage makes every query
time out and must not quarantine all mail: during one, mail goes on with temperror results, so
DMARC neither rejects nor passes it and no allowlist trusts it. A spoofer cannot use that to
dodge the policy of the domain it forges: the servers it controls cost one timeout each while
the DMARC record comes from the forged domain's own servers, and stalling until the budget runs
out quarantines the mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mailmoat.ingest.adapters.dns import DnsTempError, TimedResolver

T = TypeVar("T")
Clock = Callable[[], float]


@dataclass(frozen=True)
class DnsAllowance:
    """What each mail may spend on DNS: ``seconds`` from submission and ``max_queries`` lookups."""

    seconds: float
    max_queries: int

    def start(self, clock: Clock = time.monotonic) -> DnsBudget:
        """A fresh budget whose time starts now."""
        return DnsBudget(deadline=clock() + self.seconds, max_queries=self.max_queries, clock=clock)


class DnsBudget:
    """One mail's remaining DNS time and queries; used by the one worker analysing the mail.

    ``exhausted`` records that the budget, not a DNS server, decided an answer: a lookup was
    refused, or one was cut short by the deadline. The analysis then counts as failed.
    """

    def __init__(self, *, deadline: float, max_queries: int, clock: Clock = time.monotonic) -> None:
        self._deadline = deadline
        self._max_queries = max_queries
        self._clock = clock
        self.queries = 0
        self.exhausted = False

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self._deadline - self._clock()

    def spent(self) -> bool:
        """Whether no further lookup would be allowed."""
        return self.queries >= self._max_queries or self.remaining() <= 0

    def take(self) -> float:
        """Charge one query and return the time it may take; DnsTempError at once if spent."""
        if self.queries >= self._max_queries:
            self.exhausted = True
            raise DnsTempError(f"per-mail DNS budget of {self._max_queries} queries spent")
        left = self.remaining()
        if left <= 0:
            self.exhausted = True
            raise DnsTempError("per-mail DNS time budget spent")
        self.queries += 1
        return left


class BudgetedResolver:
    """A Resolver charging every lookup to one mail's DnsBudget.

    Each query gets the budget's remaining time as its lifetime, so the last one ends with the
    budget; a query that fails on its own within the budget stays an ordinary DnsTempError.
    """

    def __init__(self, resolver: TimedResolver, budget: DnsBudget) -> None:
        self._resolver = resolver
        self._budget = budget

    def lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        return self._charged(lambda left: self._resolver.lookup(name, rdtype, lifetime=left))

    def exists(self, name: str) -> bool:
        return self._charged(lambda left: self._resolver.exists(name, lifetime=left))

    def _charged(self, query: Callable[[float], T]) -> T:
        lifetime = self._budget.take()
        try:
            return query(lifetime)
        except DnsTempError:
            if self._budget.remaining() <= 0:
                self._budget.exhausted = True  # it ran until the budget's deadline cut it off
            raise
