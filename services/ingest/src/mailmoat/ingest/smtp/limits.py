"""Connection limits per client address and in total, so one sender cannot starve the rest."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ConnectionLimiter:
    """Counts open connections; ``acquire`` refuses beyond the total or per-address limit."""

    max_total: int
    max_per_ip: int
    _per_ip: Counter[str] = field(default_factory=Counter)
    _total: int = 0

    def acquire(self, ip: str) -> bool:
        if self._total >= self.max_total or self._per_ip[ip] >= self.max_per_ip:
            return False
        self._total += 1
        self._per_ip[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self._total -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]

    @property
    def open_connections(self) -> int:
        return self._total
