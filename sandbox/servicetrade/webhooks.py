"""Webhooks: /webhook CRUD and outbound deliveries (docs/servicetrade-double.md).

A delivery is `{"messageId", "timestamp": "<unix>", "data": [{action, timestamp, userId, entity: {type, id,
uri}, changeset?}]}` POSTed, unsigned, to every enabled webhook whose entityEvents match (null = all).
Each webhook gets up to `max_attempts` tries with a `timeout` each; any 2xx-4xx answer counts as
delivered, 5xx and network errors are retried. Every attempt is recorded in `Dispatcher.attempts`.

Modes: "async" (a background thread delivers after the request commits), "sync" (delivered before the
API response is sent) and "manual" (queued until `flush()`).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from werkzeug.wrappers import Response

from sandbox.servicetrade.http import ApiError, Change, Ctx, Row, empty, envelope, not_found, paged, require, to_bool
from sandbox.servicetrade.render import Renderer
from sandbox.servicetrade.store import ENTITY_CODES, Store

DeliveryMode = Literal["async", "sync", "manual"]
# Webhook entity type -> the Store's rows of it (the ones that keep an `updated` time).
ENTITY_ROWS = {
    "invoice": "invoices",
    "company": "companies",
    "location": "locations",
    "job": "jobs",
    "jobitem": "job_items",
}
ACTIONS = ("created", "updated", "deleted")


# -- CRUD ------------------------------------------------------------------------------------------------------
def _entity_events(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ApiError(400, "entityEvents must be a list or null")
    events: list[dict[str, Any]] = []
    for ev in value:
        if not isinstance(ev, dict) or ev.get("entityType") in (None, ""):
            raise ApiError(400, "each entityEvents element needs an entityType")
        kept: dict[str, Any] = {"entityType": ev["entityType"]}
        if "eventType" in ev:
            kept["eventType"] = str(ev["eventType"])
        if "actions" in ev:
            kept["actions"] = [str(a) for a in ev["actions"] or []]
        events.append(kept)
    return events


def _webhook(ctx: Ctx, webhook_id: int) -> Row:
    row = ctx.store.webhooks.get(webhook_id)
    if row is None:
        raise not_found("Webhook", webhook_id)
    return row


def list_webhooks(ctx: Ctx) -> Response:
    rows = list(ctx.store.webhooks.values())
    return envelope(paged(rows, ctx.params, "webhooks", Renderer(ctx.store, ctx.base_url).webhook, 2000, 2000))


def get_webhook(ctx: Ctx, id: int) -> Response:
    return envelope(Renderer(ctx.store, ctx.base_url).webhook(_webhook(ctx, id)))


def create_webhook(ctx: Ctx) -> Response:
    if ctx.store.users.get(ctx.user_id, {}).get("role") != "admin":
        raise ApiError(403, "You do not have permission to manage webhooks (admin.account)")
    body = ctx.body()
    require(body, "hookUrl")
    url = str(body["hookUrl"])
    if not url.startswith(("http://", "https://")):
        raise ApiError(400, "hookUrl must be an http(s) URL")
    now = int(time.time())
    row: Row = {"id": ctx.store.new_id(), "hookUrl": url, "confirmed": False, "created": now, "updated": now}
    row["enabled"] = to_bool(body.get("enabled", True), "enabled")
    row["includeChangesets"] = to_bool(body.get("includeChangesets", False), "includeChangesets")
    row["entityEvents"] = _entity_events(body.get("entityEvents"))
    ctx.store.webhooks[row["id"]] = row
    return envelope(Renderer(ctx.store, ctx.base_url).webhook(row))


def update_webhook(ctx: Ctx, id: int) -> Response:
    row = _webhook(ctx, id)
    body = ctx.body()
    if "hookUrl" in body and body["hookUrl"] != row["hookUrl"]:
        raise ApiError(400, "hookUrl cannot be changed; delete the webhook and create a new one")
    for key in ("enabled", "includeChangesets"):
        if key in body:
            row[key] = to_bool(body[key], key)
    if "entityEvents" in body:
        row["entityEvents"] = _entity_events(body["entityEvents"])
    row["updated"] = int(time.time())
    return envelope(Renderer(ctx.store, ctx.base_url).webhook(row))


def delete_webhook(ctx: Ctx, id: int) -> Response:
    _webhook(ctx, id)
    del ctx.store.webhooks[id]
    return empty(204)


# -- deliveries ------------------------------------------------------------------------------------------------
def _type_name(value: object) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return ENTITY_CODES.get(int(value), str(value))
    return str(value).lower()


def subscribed(webhook: Row, entity_type: str, action: str) -> bool:
    events = webhook.get("entityEvents")
    if events is None:
        return True
    for ev in events:
        if _type_name(ev["entityType"]) != entity_type:
            continue
        actions = ev.get("actions") or ([ev["eventType"]] if ev.get("eventType") else list(ACTIONS))
        if action in actions:
            return True
    return False


@dataclass(frozen=True)
class DeliveryAttempt:
    message_id: str
    webhook_id: int
    hook_url: str
    attempt: int  # 1-based
    status: int | None  # None: no HTTP answer (timeout, refused)
    error: str
    delivered: bool
    at: float


@dataclass
class Outbound:
    message_id: str
    webhook_id: int
    hook_url: str
    payload: dict[str, Any]


@dataclass
class Dispatcher:
    store: Store
    base_url: str = ""
    mode: DeliveryMode = "async"
    timeout: float = 5.0
    max_attempts: int = 3
    retry_delay: float = 1.0
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[Outbound] = field(default_factory=list)  # lost on purpose (drop_deliveries), never sent
    _drop: tuple[int, int | None] | None = None
    _drop_seen: int = 0
    _queue: queue.Queue[Outbound | None] = field(default_factory=queue.Queue)
    _pending: list[Outbound] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        if self.mode == "async" and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="st-sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout * self.max_attempts + 5)
            self._thread = None

    def publish(self, changes: Sequence[Change]) -> str | None:
        """Turn committed changes into one message per subscribed webhook; returns the message id."""
        if not changes:
            return None
        now = int(time.time())
        message_id = str(uuid.uuid4())
        with self.store.lock:
            stamps = [self._changed_at(c, now) for c in changes]
        items: list[dict[str, Any]] = [
            {
                "action": c.action,
                "timestamp": stamp,
                "userId": c.user_id,
                "entity": {"type": c.entity_type, "id": c.entity_id, "uri": self._uri(c)},
                "changeset": c.changeset,
            }
            for c, stamp in zip(changes, stamps, strict=True)
        ]
        with self.store.lock:
            hooks = [dict(w) for w in self.store.webhooks.values() if w["enabled"]]
        with self._lock:
            self.messages.append({"messageId": message_id, "timestamp": str(now), "data": items})
        for hook in hooks:
            data = [
                self._shape(item, hook) for item in items if subscribed(hook, item["entity"]["type"], item["action"])
            ]
            if data:
                payload = {"messageId": message_id, "timestamp": str(now), "data": data}
                self._enqueue(Outbound(message_id, hook["id"], hook["hookUrl"], payload))
        return message_id

    def _changed_at(self, change: Change, now: int) -> int:
        """When the entity changed: its `updated` time (so an event names the version it announces), or
        now for an entity without one (deleted, or a type that keeps no `updated`)."""
        rows = getattr(self.store, ENTITY_ROWS.get(change.entity_type, ""), None)
        row = rows.get(change.entity_id) if isinstance(rows, dict) else None
        updated = row.get("updated") if isinstance(row, dict) else None
        return int(updated) if updated else now

    def drop_deliveries(self, count: int, of: int | None = None) -> None:
        """Lose messages before they are sent (a webhook lost to an outage longer than the retries, or to a
        misconfigured hook): `count` of every `of` messages from now on (every message when count == of),
        or the next `count` when `of` is None. `drop_deliveries(0)` stops dropping."""
        if count < 0 or (of is not None and not 0 < count <= of):
            raise ValueError("drop 0 <= count <= of messages")
        with self._lock:
            self._drop = None if count == 0 else (count, of)
            self._drop_seen = 0

    def _dropping(self) -> bool:
        with self._lock:
            if self._drop is None:
                return False
            count, of = self._drop
            n, self._drop_seen = self._drop_seen, self._drop_seen + 1
            if of is None:
                if n + 1 >= count:
                    self._drop = None
                return True
            return n % of < count

    def _uri(self, change: Change) -> str:
        return f"{self.base_url}/api/{change.entity_type}/{change.entity_id}"

    @staticmethod
    def _shape(item: dict[str, Any], hook: Row) -> dict[str, Any]:
        shaped = {k: v for k, v in item.items() if k != "changeset"}
        if hook["includeChangesets"] and item["action"] == "updated" and item["changeset"] is not None:
            shaped["changeset"] = item["changeset"]
        return shaped

    def _enqueue(self, out: Outbound) -> None:
        if self._dropping():
            with self._lock:
                self.dropped.append(out)
            return
        if self.mode == "sync":
            self.deliver(out)
        elif self.mode == "manual":
            with self._lock:
                self._pending.append(out)
        else:
            self._queue.put(out)

    def flush(self) -> int:
        """Deliver everything queued in "manual" mode, now, in the caller's thread. Returns the count."""
        with self._lock:
            pending, self._pending = self._pending, []
        for out in pending:
            self.deliver(out)
        return len(pending)

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the async queue is drained (every attempt recorded)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._queue.all_tasks_done.wait(remaining):
                    raise TimeoutError("webhook deliveries still pending")

    def _run(self) -> None:
        while True:
            out = self._queue.get()
            try:
                if out is None:
                    return
                self.deliver(out)
            finally:
                self._queue.task_done()

    def deliver(self, out: Outbound) -> bool:
        """POST one message to one webhook with retries; True when an attempt counted as delivered."""
        for attempt in range(1, self.max_attempts + 1):
            status: int | None = None
            error = ""
            try:
                resp = requests.post(out.hook_url, json=out.payload, timeout=self.timeout)
                status = resp.status_code
            except requests.RequestException as exc:
                error = type(exc).__name__
            delivered = status is not None and 200 <= status < 500
            with self._lock:
                self.attempts.append(
                    DeliveryAttempt(
                        out.message_id, out.webhook_id, out.hook_url, attempt, status, error, delivered, time.time()
                    )
                )
            if delivered:
                with self.store.lock:
                    hook = self.store.webhooks.get(out.webhook_id)
                    if hook is not None:
                        hook["confirmed"] = True
                return True
            if attempt < self.max_attempts and self.retry_delay > 0:
                time.sleep(self.retry_delay)
        return False
