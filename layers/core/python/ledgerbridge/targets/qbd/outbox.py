"""The QuickBooks Desktop outbox: an ordered, per-tenant queue of records waiting for the Web Connector.

QuickBooks Desktop cannot be called; it calls us (QBWC polls on the customer's schedule). So a sync job does
not write to QuickBooks: it builds the documents and leaves them here, and the next Web Connector session
drains the queue in batches (session.py). Each entry holds the sync engine's prepared Write (the engine's
content-hash skip and create intent ran when the job was worked, jobs.py) and the session settles it with the
engine's finish / reject (service.py), as any target's write. One entry per platform record
(`invoice#<id>`, `customer#<id>`): a newer version of a record replaces its Write but keeps its place in
line. An entry leaves only when QuickBooks has the version it holds (remove() is conditional on the content
hash), so an update that arrives mid-session is never lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import is_conditional_failure, query, state
from ledgerbridge.targets.base import Write

TARGET = "qbd"


@dataclass(frozen=True)
class Entry:
    write: Write  # the engine's prepared write (document, content hash, handles), settled with the same value
    label: str  # what a person calls it: the invoice number, the customer name
    customers: tuple[dict[str, Any], ...]  # customer documents it needs, parent before job
    items: tuple[str, ...] = ()  # service item names it needs
    seq: int = 0

    @property
    def entity(self) -> str:
        return self.write.entity

    @property
    def source_id(self) -> str:
        return self.write.source_id

    @property
    def document(self) -> dict[str, Any]:
        return self.write.document

    @property
    def digest(self) -> str:
        return self.write.content_hash

    @property
    def key(self) -> str:
        return f"{self.entity}#{self.source_id}"

    def as_sent(self, digest: str) -> Entry:
        """The entry as QuickBooks holds it: the version (content hash) a session sent, not a newer one."""
        return replace(self, write=self.write.model_copy(update={"content_hash": digest}))


def _pk(tenant_id: str) -> str:
    return keys.outbox_pk(tenant_id, TARGET)


def put(tenant_id: str, entry: Entry) -> None:
    state().update_item(
        Key=keys.outbox_entry(tenant_id, TARGET, entry.key),
        UpdateExpression="SET seq = if_not_exists(seq, :seq), label = :l, customers = :c, #items = :i, "
        "#write = :w, digest = :h",
        ExpressionAttributeNames={"#items": "items", "#write": "write"},  # DynamoDB reserved words
        ExpressionAttributeValues={
            ":seq": time.time_ns(),
            ":l": entry.label,
            ":c": json.dumps(entry.customers),
            ":i": json.dumps(entry.items),
            ":w": entry.write.model_dump_json(),
            ":h": entry.digest,
        },
    )


def _entry(item: dict[str, Any]) -> Entry:
    return Entry(
        write=Write.model_validate_json(item["write"]),
        label=item["label"],
        customers=tuple(json.loads(item["customers"])),
        items=tuple(json.loads(item["items"])),
        seq=int(item["seq"]),
    )


def pending(tenant_id: str) -> list[Entry]:
    """Every waiting entry, oldest first."""
    return sorted((_entry(item) for item in query(_pk(tenant_id))), key=lambda e: e.seq)


def get_many(tenant_id: str, record_keys: Iterable[str]) -> dict[str, Entry]:
    """The entries of these keys that are still waiting (BatchGetItem, 100 keys a call)."""
    wanted = list(dict.fromkeys(record_keys))
    found: dict[str, Entry] = {}
    table = state()
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            table.name: {"Keys": [keys.outbox_entry(tenant_id, TARGET, k) for k in wanted[start : start + 100]],
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
            Key=keys.outbox_entry(tenant_id, TARGET, key),
            ConditionExpression="digest = :h",
            ExpressionAttributeValues={":h": digest},
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
