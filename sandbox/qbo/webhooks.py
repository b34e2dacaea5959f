"""Webhook delivery as Intuit does it (Intuit: webhooks): a POST per realm with what changed, signed with
`intuit-signature` = base64(HMAC-SHA256(verifier token, raw body)), in the legacy `eventNotifications` shape
or as CloudEvents; anything but 2xx is retried on Intuit's schedule (on the sandbox clock)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import requests

from sandbox.qbo.clock import Clock
from sandbox.qbo.store import Change

# 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h (Intuit: webhooks, best practices)
RETRY_DELAYS_S = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
Send = Callable[[bytes, dict[str, str]], int]  # (raw body, headers) -> HTTP status
CLOUDEVENT_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided"}


@dataclass
class WebhookOptions:
    webhook_url: str = ""
    verifier_token: str = "sandbox-verifier-token"  # noqa: S105 (a sandbox, never deployed)
    webhook_format: Literal["legacy", "cloudevents"] = "legacy"
    webhook_entities: frozenset[str] = frozenset({"Customer", "Invoice", "Payment", "Item"})
    cloudevents_content_type: str = "application/cloudevents+json"
    max_events_per_post: int = 100
    webhook_auto_flush_s: float = 0.0  # > 0: deliver in the background every so many (wall-clock) seconds


@dataclass
class Delivery:
    realm_id: str
    body: bytes
    content_type: str
    signature: str
    attempts: int = 0
    next_at: float = 0.0
    last_status: int | None = None
    delivered: bool = False


def sign(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def legacy_body(realm_id: str, changes: list[Change]) -> dict[str, Any]:
    return {
        "eventNotifications": [
            {
                "realmId": realm_id,
                "dataChangeEvent": {
                    "entities": [
                        {"name": c.entity, "id": c.id, "operation": c.operation, "lastUpdated": _iso(c.at)}
                        for c in changes
                    ]
                },
            }
        ]
    }


def cloudevents_body(realm_id: str, changes: list[Change]) -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "intuit.qbo.sandbox",
            "type": f"qbo.{c.entity.lower()}.{CLOUDEVENT_VERBS[c.operation]}.v1",
            "datacontenttype": "application/json",
            "time": _iso(c.at),
            "intuitentityid": c.id,
            "intuitaccountid": realm_id,
            "data": {},
        }
        for c in changes
    ]


@dataclass
class WebhookDispatcher:
    options: WebhookOptions
    clock: Clock
    deliveries: list[Delivery] = field(default_factory=list)
    _pending: dict[str, list[Change]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, realm_id: str, changes: list[Change]) -> None:
        wanted = [c for c in changes if c.entity in self.options.webhook_entities]
        if self.options.webhook_url and wanted:
            with self._lock:
                self._pending.setdefault(realm_id, []).extend(wanted)

    def _package(self) -> None:
        """Turn pending changes into signed deliveries, one realm per POST, at most 100 events each."""
        size = self.options.max_events_per_post
        for realm_id, changes in self._pending.items():
            for i in range(0, len(changes), size):
                chunk = changes[i : i + size]
                if self.options.webhook_format == "cloudevents":
                    payload: Any = cloudevents_body(realm_id, chunk)
                    content_type = self.options.cloudevents_content_type
                else:
                    payload, content_type = legacy_body(realm_id, chunk), "application/json"
                body = json.dumps(payload).encode()
                self.deliveries.append(Delivery(realm_id, body, content_type, sign(self.options.verifier_token, body)))
        self._pending.clear()

    def pending(self) -> int:
        """Changes not yet packaged plus deliveries not yet acknowledged."""
        with self._lock:
            return sum(len(c) for c in self._pending.values()) + sum(1 for d in self.deliveries if not d.delivered)

    def drop_pending(self) -> int:
        """Lose every undelivered notification (a webhook outage that Intuit gave up on): CDC must cover it."""
        with self._lock:
            lost = sum(len(c) for c in self._pending.values()) + sum(1 for d in self.deliveries if not d.delivered)
            self._pending.clear()
            self.deliveries = [d for d in self.deliveries if d.delivered]
            return lost

    def flush(self, session: requests.Session | None = None, send: Send | None = None) -> list[Delivery]:
        """Deliver everything due now (new events and retries whose time has come); returns those tried.
        `send(body, headers) -> status` replaces the HTTP POST (tests hand deliveries to a handler in-process)."""
        with self._lock:
            self._package()
            due = [d for d in self.deliveries if not d.delivered and d.next_at <= self.clock.now()]
        http = session or requests.Session()
        for delivery in due:
            headers = {"Content-Type": delivery.content_type, "intuit-signature": delivery.signature}
            try:
                if send is not None:
                    delivery.last_status = send(delivery.body, headers)
                else:
                    resp = http.post(self.options.webhook_url, data=delivery.body, headers=headers, timeout=3)
                    delivery.last_status = resp.status_code  # Intuit wants the 200 within 3 s (timeout above)
            except requests.RequestException:
                delivery.last_status = None
            delivery.attempts += 1
            if delivery.last_status is not None and 200 <= delivery.last_status < 300:
                delivery.delivered = True
            else:
                delay = RETRY_DELAYS_S[min(delivery.attempts, len(RETRY_DELAYS_S)) - 1]
                delivery.next_at = self.clock.now() + delay
        return due
