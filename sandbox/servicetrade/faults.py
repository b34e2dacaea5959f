"""Fault injection: fail the next N matching requests (5xx or 429) and/or add latency.

Rules match on a path prefix (default "/api/", so the `/_sandbox` control routes are never affected) and
are consumed in the order they were added. A 429 carries `Retry-After` when one is given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class FailRule:
    status: int
    remaining: int
    retry_after: int | None
    path_prefix: str
    method: str | None


@dataclass
class LatencyRule:
    seconds: float
    remaining: int | None  # None: every request until cleared
    path_prefix: str


@dataclass(frozen=True)
class Injected:
    latency: float
    status: int | None
    retry_after: int | None


@dataclass
class Faults:
    failures: list[FailRule] = field(default_factory=list)
    latencies: list[LatencyRule] = field(default_factory=list)
    injected: int = 0  # failures served so far
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        retry_after: int | None = None,
        path_prefix: str = "/api/",
        method: str | None = None,
    ) -> None:
        """The next `count` requests under `path_prefix` (and `method`, if given) answer `status`."""
        if not (status == 429 or 500 <= status <= 599):
            raise ValueError("inject 429 or a 5xx status")
        with self._lock:
            self.failures.append(FailRule(status, count, retry_after, path_prefix, method and method.upper()))

    def add_latency(self, seconds: float, count: int | None = None, *, path_prefix: str = "/api/") -> None:
        """Delay the next `count` matching requests (all of them when count is None) by `seconds`."""
        with self._lock:
            self.latencies.append(LatencyRule(seconds, count, path_prefix))

    def clear(self) -> None:
        with self._lock:
            self.failures.clear()
            self.latencies.clear()

    def take(self, method: str, path: str) -> Injected:
        """What to do to this request; consumes one use of each matching rule."""
        with self._lock:
            latency = 0.0
            for rule in list(self.latencies):
                if path.startswith(rule.path_prefix):
                    latency += rule.seconds
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self.latencies.remove(rule)
            for fail in self.failures:
                if path.startswith(fail.path_prefix) and fail.method in (None, method):
                    fail.remaining -= 1
                    if fail.remaining <= 0:
                        self.failures.remove(fail)
                    self.injected += 1
                    return Injected(latency, fail.status, fail.retry_after)
            return Injected(latency, None, None)
