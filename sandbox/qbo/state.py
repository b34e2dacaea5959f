"""Everything one sandbox server knows, and the options it was started with."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.qbo.clock import Clock, ManualClock, OffsetClock, SystemClock
from sandbox.qbo.faults import FaultInjector
from sandbox.qbo.limits import RateLimiter, RateLimits
from sandbox.qbo.oauth import OAuthOptions, OAuthServer
from sandbox.qbo.store import CompanySettings, Realm, seed
from sandbox.qbo.webhooks import WebhookDispatcher, WebhookOptions

DEFAULT_REALM = "9341455000000001"


@dataclass
class ApiOptions:
    realms: tuple[str, ...] = (DEFAULT_REALM,)
    throttle_xml: bool = True  # Intuit: limits and throttles: the 429 body may be XML even when JSON was asked for
    retry_after_s: int | None = None  # a Retry-After header on 429s (none documented by Intuit)
    seed: int = 0  # for the chaos mode


@dataclass
class SandboxOptions:
    api: ApiOptions = field(default_factory=ApiOptions)
    oauth: OAuthOptions = field(default_factory=OAuthOptions)
    company: CompanySettings = field(default_factory=CompanySettings)
    limits: RateLimits = field(default_factory=RateLimits)
    webhooks: WebhookOptions = field(default_factory=WebhookOptions)

    @classmethod
    def from_kwargs(cls, **options: Any) -> SandboxOptions:
        """Flat keyword options (client_id=..., per_second=..., throttle_xml=...) sorted into their groups."""
        built = cls()
        for key, value in options.items():
            groups = [getattr(built, g.name) for g in dataclasses.fields(built)]
            group = next((g for g in groups if key in {f.name for f in dataclasses.fields(g)}), None)
            if group is None:
                raise TypeError(f"unknown sandbox option {key!r}")
            setattr(group, key, tuple(value) if key == "realms" else value)
        return built


class SandboxState:
    def __init__(self, options: SandboxOptions, clock: Clock | None = None) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.oauth = OAuthServer(options.oauth, self.clock)
        self.faults = FaultInjector()
        self.faults.chaos(seed=options.api.seed)
        self.limiter = RateLimiter(options.limits, self.clock)
        self.webhooks = WebhookDispatcher(options.webhooks, self.clock)
        self.realms: dict[str, Realm] = {}
        self.calls: list[dict[str, Any]] = []
        self.base_url = ""
        for realm_id in options.api.realms:
            self.add_realm(realm_id)

    def add_realm(self, realm_id: str) -> Realm:
        with self.lock:
            if realm_id not in self.realms:
                realm = Realm(realm_id, dataclasses.replace(self.options.company), self.clock)
                seed(realm)
                self.realms[realm_id] = realm
            return self.realms[realm_id]

    def realm(self, realm_id: str | None = None) -> Realm:
        return self.realms[realm_id or self.options.api.realms[0]]

    def advance(self, seconds: float) -> None:
        if not isinstance(self.clock, ManualClock | OffsetClock):
            raise TypeError("only a ManualClock or OffsetClock can be advanced; start the sandbox with one")
        self.clock.advance(seconds)
