"""QBO's published throttles, per realm (Intuit: limits and throttles): requests per minute and per second, concurrent
requests, batch requests per minute. Windows follow the sandbox clock, so tests move time instead of waiting."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from sandbox.qbo.clock import Clock


@dataclass
class RateLimits:
    per_minute: int = 500  # REST requests per realm per minute (batch requests included)
    per_second: int = 10  # per realm and app
    concurrent: int = 10  # in-flight requests per realm and app
    batch_per_minute: int = 40  # batch requests per realm and app per minute
    enabled: bool = True


class RateLimiter:
    """Sliding windows of admitted request times per realm; a refused request is not counted."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: dict[str, deque[float]] = defaultdict(deque)
        self._batches: dict[str, deque[float]] = defaultdict(deque)
        self._in_flight: dict[str, int] = defaultdict(int)
        self.refused = 0

    @staticmethod
    def _last_minute(window: deque[float], now: float) -> deque[float]:
        while window and window[0] <= now - 60.0:
            window.popleft()
        return window

    def admit(self, realm: str, batch: bool = False) -> bool:
        """Count the request against the realm's windows and enter it; False (and nothing counted) when any
        limit would be exceeded. Every True must be paired with leave()."""
        if not self.limits.enabled:
            with self._lock:
                self._in_flight[realm] += 1
            return True
        now = self._clock.now()
        with self._lock:
            requests = self._last_minute(self._requests[realm], now)
            batches = self._last_minute(self._batches[realm], now)
            last_second = sum(1 for t in requests if t > now - 1.0)
            over = (
                len(requests) >= self.limits.per_minute
                or last_second >= self.limits.per_second
                or self._in_flight[realm] >= self.limits.concurrent
                or (batch and len(batches) >= self.limits.batch_per_minute)
            )
            if over:
                self.refused += 1
                return False
            requests.append(now)
            if batch:
                batches.append(now)
            self._in_flight[realm] += 1
            return True

    def leave(self, realm: str) -> None:
        with self._lock:
            self._in_flight[realm] -= 1

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._batches.clear()
