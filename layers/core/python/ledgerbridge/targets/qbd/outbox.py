"""The QuickBooks Desktop outbox: an ordered, per-tenant queue of records waiting for the Web Connector.

QuickBooks Desktop cannot be called; it calls us (QBWC polls on the customer's schedule). So a sync job does
not write to QuickBooks: it builds the documents and leaves them here, and the next Web Connector session
drains the queue in batches (session.py). One entry per platform record (`invoice#<id>`, `customer#<id>`):
a newer version of a record replaces its document but keeps its place in line. An entry leaves only when
QuickBooks has the version it holds (remove() is conditional on the content hash), so an update that arrives
mid-session is never lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from ledgerbridge.state.table import is_conditional_failure, query, state

Entity = Literal["invoice", "customer"]


@dataclass(frozen=True)
class Entry:
    entity: Entity
    source_id: str
    label: str  # what a person calls it: the invoice number, the customer name
    customers: tuple[dict[str, Any], ...]  # customer documents it needs, parent before job
    items: tuple[str, ...] = ()  # service item names it needs
    document: dict[str, Any] = field(default_factory=dict)  # the invoice; {} for a customer entry
    digest: str = ""
    seq: int = 0

    @property
    def key(self) -> str:
        return f"{self.entity}#{self.source_id}"


def _pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#QBD#OUTBOX"


def put(tenant_id: str, entry: Entry) -> None:
    state().update_item(
        Key={"pk": _pk(tenant_id), "sk": entry.key},
        UpdateExpression="SET seq = if_not_exists(seq, :seq), entity = :e, source_id = :s, label = :l, "
        "customers = :c, #items = :i, #document = :d, digest = :h",
        ExpressionAttributeNames={"#items": "items", "#document": "document"},  # DynamoDB reserved words
        ExpressionAttributeValues={
            ":seq": time.time_ns(),
            ":e": entry.entity,
            ":s": entry.source_id,
            ":l": entry.label,
            ":c": json.dumps(entry.customers),
            ":i": json.dumps(entry.items),
            ":d": json.dumps(entry.document),
            ":h": entry.digest,
        },
    )


def _entry(item: dict[str, Any]) -> Entry:
    return Entry(
        entity=item["entity"],
        source_id=item["source_id"],
        label=item["label"],
        customers=tuple(json.loads(item["customers"])),
        items=tuple(json.loads(item["items"])),
        document=json.loads(item["document"]),
        digest=item["digest"],
        seq=int(item["seq"]),
    )


def pending(tenant_id: str) -> list[Entry]:
    """Every waiting entry, oldest first."""
    return sorted((_entry(item) for item in query(_pk(tenant_id))), key=lambda e: e.seq)


def get_many(tenant_id: str, keys: Iterable[str]) -> dict[str, Entry]:
    """The entries of these keys that are still waiting (BatchGetItem, 100 keys a call)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, Entry] = {}
    table = state()
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            table.name: {"Keys": [{"pk": _pk(tenant_id), "sk": k} for k in wanted[start : start + 100]],
                         "ConsistentRead": True}
        }  # fmt: skip
        while request:
            resp = table.meta.client.batch_get_item(RequestItems=request)
            for item in resp["Responses"].get(table.name, []):
                found[item["sk"]] = _entry(item)
            request = resp.get("UnprocessedKeys") or {}
    return found


def has_work(tenant_id: str) -> bool:
    return next(query(_pk(tenant_id), limit=1), None) is not None


def remove(tenant_id: str, key: str, digest: str) -> bool:
    """Take an entry off the queue if it still holds this version; False when a newer one replaced it."""
    try:
        state().delete_item(
            Key={"pk": _pk(tenant_id), "sk": key},
            ConditionExpression="digest = :h",
            ExpressionAttributeValues={":h": digest},
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
