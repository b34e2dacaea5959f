"""Mappings: source record -> target record (id, concurrency token, content hash). They decide create vs
update, and the hash lets the engine skip updates that would change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ledgerbridge.state import keys
from ledgerbridge.state.table import get, state


@dataclass(frozen=True)
class Mapping:
    target_id: str
    sync_token: str = ""
    content_hash: str = ""
    natural_key: str = ""


def find(tenant_id: str, target: str, entity: str, source_id: str) -> Mapping | None:
    key = keys.mapping(tenant_id, target, entity, source_id)
    item = get(key["pk"], key["sk"])
    if item is None:
        return None
    return Mapping(
        target_id=item["target_id"],
        sync_token=item.get("sync_token", ""),
        content_hash=item.get("content_hash", ""),
        natural_key=item.get("natural_key", ""),
    )


def put(tenant_id: str, target: str, entity: str, source_id: str, mapping: Mapping) -> None:
    state().put_item(
        Item={
            **keys.mapping(tenant_id, target, entity, source_id),
            "target_id": mapping.target_id,
            "sync_token": mapping.sync_token,
            "content_hash": mapping.content_hash,
            "natural_key": mapping.natural_key,
            "updated": datetime.now(UTC).isoformat(),
        }
    )


def find_by_target(tenant_id: str, target: str, entity: str, target_id: str) -> str | None:
    """Reverse lookup (target id -> source id), for records flowing back such as payments."""
    key = keys.reverse_mapping(tenant_id, target, entity, target_id)
    item = get(key["pk"], key["sk"])
    return None if item is None else str(item["source_id"])


def put_reverse(tenant_id: str, target: str, entity: str, target_id: str, source_id: str) -> None:
    state().put_item(
        Item={
            **keys.reverse_mapping(tenant_id, target, entity, target_id),
            "source_id": source_id,
        }
    )
