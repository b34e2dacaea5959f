"""Web Connector sessions in DynamoDB: the ticket QBWC carries on every call, its state, and one live
session per tenant (a second Web Connector, or a second run, is told `busy`).

A ticket is a random GUID handed out by authenticate; it expires SESSION_IDLE_S after its last call, and
every call checks it. The session state (session.py) is saved with it after each call, so any Lambda
instance can answer the next call. The tenant record remembers the last ticket, so a new session can see
what the previous one had sent when it died (an InvoiceAdd whose answer never came back), and when that
session started and ended with a summary of what it did (the console's Overview reads it: `last`).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state
from ledgerbridge.targets.qbd.session import summary

TARGET = "qbd"

SESSION_IDLE_S = 20 * 60  # QBWC waits for each answer; a session silent this long is over
KEEP_S = 24 * 3600  # a finished session's state stays this long, for the next session to read


@dataclass
class Ticket:
    ticket: str
    tenant_id: str
    data: dict[str, Any]


def _lock_key(tenant_id: str) -> dict[str, str]:
    return keys.connector_session(tenant_id, TARGET)


def _key(ticket: str) -> dict[str, str]:
    return keys.session_ticket(TARGET, ticket)


def begin(tenant_id: str, data: dict[str, Any]) -> tuple[Ticket | None, dict[str, Any] | None]:
    """A new session for the tenant, or None while another one is live. Also returns the previous
    session's state (None if there was none or it is gone)."""
    now = time.time()
    ticket = str(uuid.uuid4())
    lock = get(*_lock_key(tenant_id).values())
    try:
        state().put_item(
            Item={
                **_lock_key(tenant_id),
                "ticket": ticket,
                "expires": int(now + SESSION_IDLE_S),
                "live": True,
                "started": _iso(now),
            },
            ConditionExpression="attribute_not_exists(pk) OR live = :no OR expires < :now",
            ExpressionAttributeValues={":no": False, ":now": int(now)},
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
        return None, None
    state().delete_item(Key=_refused_key(tenant_id))  # signed in again: an earlier refusal is history
    previous = None
    if lock is not None and lock.get("ticket"):
        item = get(*_key(str(lock["ticket"])).values())
        previous = None if item is None else json.loads(item["data"])
    opened = Ticket(ticket, tenant_id, data)
    save(opened)
    return opened, previous


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LastSession:
    """The tenant's latest Web Connector session, as the Overview shows it."""

    started: str  # ISO-8601 UTC ("" for a session begun before this was recorded)
    ended: str  # "" while live, or when it stopped answering without closing
    live: bool  # a Web Connector is in a session right now
    last_call: str  # when it last called (the session's idle expiry minus its allowance)
    summary: dict[str, Any]  # session.summary of its state; {} when no longer kept


def last(tenant_id: str) -> LastSession | None:
    """The latest session; None when the Web Connector has never opened one."""
    lock = get(*_lock_key(tenant_id).values())
    if lock is None or not lock.get("ticket"):
        return None
    ended = str(lock.get("ended") or "")
    kept = lock.get("summary")
    if not kept:  # live, or stopped without closing: what its state says so far (kept KEEP_S)
        item = get(*_key(str(lock["ticket"])).values())
        kept = json.dumps(summary(json.loads(item["data"]))) if item is not None else "{}"
    live = bool(lock.get("live")) and int(lock["expires"]) >= time.time()
    last_call = _iso(int(lock["expires"]) - SESSION_IDLE_S)
    return LastSession(str(lock.get("started") or ""), ended, live, last_call, json.loads(str(kept)))


def _refused_key(tenant_id: str) -> dict[str, str]:
    return keys.connector_refused(tenant_id, TARGET)


def refused(tenant_id: str, why: str) -> None:
    """A Web Connector that was turned away at authenticate (its password), for the console to say so."""
    state().put_item(Item={**_refused_key(tenant_id), "at": _iso(time.time()), "why": why})


def last_refusal(tenant_id: str) -> tuple[str, str] | None:
    """(when, why) of a refused authenticate since the last session began; None if none."""
    item = get(*_refused_key(tenant_id).values())
    return (str(item["at"]), str(item["why"])) if item is not None else None


def load(ticket: str) -> Ticket | None:
    """The live session of a ticket; None when unknown or expired."""
    item = get(*_key(ticket).values()) if ticket else None
    if item is None or int(item["expires"]) < time.time() or not item.get("live", True):
        return None
    return Ticket(ticket, str(item["tenant_id"]), json.loads(item["data"]))


def save(session: Ticket, live: bool = True) -> None:
    now = time.time()
    state().put_item(
        Item={
            **_key(session.ticket),
            "tenant_id": session.tenant_id,
            "data": json.dumps(session.data),
            "expires": int(now + SESSION_IDLE_S),
            "live": live,
            "ttl": int(now + KEEP_S),
        }
    )
    if live:  # keep the tenant's lock as long as the session
        state().update_item(
            Key=_lock_key(session.tenant_id),
            UpdateExpression="SET expires = :e",
            ConditionExpression="ticket = :t",
            ExpressionAttributeValues={":e": int(now + SESSION_IDLE_S), ":t": session.ticket},
        )


def end(session: Ticket) -> None:
    """Close the session: its state stays readable for the next one, the tenant is free again, and the lock
    keeps when it ended and what it did."""
    save(session, live=False)
    try:
        state().update_item(
            Key=_lock_key(session.tenant_id),
            UpdateExpression="SET live = :no, ended = :at, #summary = :s",
            ConditionExpression="ticket = :t",
            ExpressionAttributeNames={"#summary": "summary"},
            ExpressionAttributeValues={
                ":no": False,
                ":t": session.ticket,
                ":at": _iso(time.time()),
                ":s": json.dumps(summary(session.data)),
            },
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
