"""Clocks the sandbox runs on. Tests inject a ManualClock (advance it, no real waiting) or a ScaledClock."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """Stands still until told to move: rate-limit windows, token expiry and requestid windows follow it."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._now = epoch_seconds


class OffsetClock:
    """Wall time plus an offset that advance() moves: real time keeps flowing (so per-second limits clear as
    they would), and a test can still jump ahead (token expiry, the CDC window) without waiting."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class ScaledClock:
    """Wall time sped up `factor` times: with factor=60 a one-minute limit window passes in a second."""

    def __init__(self, factor: float, start: float | None = None) -> None:
        self._factor = factor
        self._origin_wall = time.monotonic()
        self._origin = time.time() if start is None else start

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin_wall) * self._factor
