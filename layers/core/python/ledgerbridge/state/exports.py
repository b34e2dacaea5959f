"""Export manifests, the records each export delivered, and the records a customer confirmed as imported.

  TENANT#{t}#EXPORT                 | {export_id}                  the manifest (a re-run replaces it)
  TENANT#{t}#EXPORT#{export_id}     | RECORDS#{day}#{n}            ids the export delivered, by day, in chunks
  TENANT#{t}#IMPORTED#{conn}#{day}  | {export_id}#{n}              ids confirmed as imported, in chunks

Records are filed under a day (an invoice's transaction date, a PO's order date, a cost's date, a labor
entry's work day), so a run reads only the imported marks of the days it covers, and a million ids cost a
few hundred items rather than a million. A labor entry is imported per work day: an entry that crosses
midnight has two pieces, and each is exported (and confirmed) with its own day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from itertools import groupby
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ledgerbridge.errors import NotFound
from ledgerbridge.state.table import get, query, state

CHUNK = 5000  # ids per item: 85 KB of 16-digit ids, 325 KB at the 64-character maximum (DynamoDB: 400 KB)
Status = Literal["ready", "held", "confirmed", "failed"]


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    export_id: str  # "{connector}.{connection}.{period}": stable, so a re-run replaces the manifest
    tenant_id: str
    connector: str
    connection: str
    period: str
    period_start: str = ""
    period_end: str = ""
    layout: str = ""  # "builtin" or the custom layout's name
    key: str = ""  # the file; "" when nothing was delivered (held, failed)
    error_key: str = ""  # the error file beside it; "" when there were no problems
    rows: int = 0
    documents: int = 0
    records: int = 0  # records delivered (invoices, POs, costs, labor entry-days)
    held_records: int = 0  # records left out by validation (hold_row) or the whole run's (hold_run)
    totals: dict[str, str] = {}
    sha256: str = ""
    size: int = 0
    parts: int = 0
    problem_count: int = 0
    problems: list[dict[str, str]] = []  # the first few; the error file has all of them
    status: Status = "ready"
    message: str = ""
    trigger: str = ""
    created: str
    confirmed_at: str = ""
    confirmed_records: int = 0  # invoices marked processed so far by a confirm that goes on over several calls


def export_id(connector: str, connection: str, period: str) -> str:
    return f"{connector}.{connection}.{period}"


def _pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#EXPORT"


def save(manifest: Manifest) -> None:
    state().put_item(
        Item={"pk": _pk(manifest.tenant_id), "sk": manifest.export_id, "manifest": manifest.model_dump_json()}
    )


def find(tenant_id: str, export_id_: str) -> Manifest | None:
    item = get(_pk(tenant_id), export_id_)
    return None if item is None else Manifest.model_validate_json(item["manifest"])


def load(tenant_id: str, export_id_: str) -> Manifest:
    found = find(tenant_id, export_id_)
    if found is None:
        raise NotFound(f"no export {export_id_!r} for this tenant")
    return found


def list_for(tenant_id: str, limit: int = 100, connection: str = "") -> list[Manifest]:
    """The tenant's exports, newest first (by when they ran)."""
    items = query(_pk(tenant_id), sk_prefix="")
    found = [Manifest.model_validate_json(i["manifest"]) for i in items]
    if connection:
        found = [m for m in found if m.connection == connection]
    found.sort(key=lambda m: (m.created, m.export_id), reverse=True)
    return found[:limit]


# --- the records an export delivered -------------------------------------------------------------------


def _records_pk(tenant_id: str, export_id_: str) -> str:
    return f"TENANT#{tenant_id}#EXPORT#{export_id_}"


def _chunks(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, int, list[str]]]:
    """(day, id) pairs sorted by day -> (day, n, ids) chunks of at most CHUNK ids."""
    for day, group in groupby(pairs, key=lambda p: p[0]):
        ids: list[str] = []
        n = 0
        for _day, rid in group:
            ids.append(rid)
            if len(ids) == CHUNK:
                yield day, n, ids
                ids, n = [], n + 1
        if ids:
            yield day, n, ids


def save_records(tenant_id: str, export_id_: str, pairs: Iterable[tuple[str, str]]) -> int:
    """Replace the export's delivered records with `pairs` ((day, id), sorted by day). Returns the count."""
    pk = _records_pk(tenant_id, export_id_)
    table = state()
    count = 0
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for item in query(pk):
            batch.delete_item(Key={"pk": pk, "sk": item["sk"]})
    with table.batch_writer() as batch:
        for day, n, ids in _chunks(pairs):
            batch.put_item(Item={"pk": pk, "sk": f"RECORDS#{day}#{n:05d}", "day": day, "ids": ",".join(ids)})
            count += len(ids)
    return count


def delivered(tenant_id: str, export_id_: str) -> Iterator[tuple[str, list[str]]]:
    """(day, ids) chunks of what the export delivered."""
    for item in query(_records_pk(tenant_id, export_id_), sk_prefix="RECORDS#"):
        yield str(item["day"]), _ids(item)


def _ids(item: dict[str, Any]) -> list[str]:
    """Ids are stored comma-joined: one string per chunk is far cheaper to write and read than a list of
    thousands of strings (platform ids never contain a comma)."""
    text = str(item.get("ids") or "")
    return text.split(",") if text else []


# --- confirmed imports ------------------------------------------------------------------------------------


def _imported_pk(tenant_id: str, connection: str, day: str) -> str:
    return f"TENANT#{tenant_id}#IMPORTED#{connection}#{day}"


def mark_imported(tenant_id: str, connection: str, export_id_: str, chunks: Iterable[tuple[str, list[str]]]) -> int:
    """Remember every (day, ids) chunk as imported through `export_id_` (idempotent). Returns the count."""
    count = 0
    seen: dict[str, int] = {}
    with state().batch_writer() as batch:
        for day, ids in chunks:
            n = seen.get(day, 0)
            seen[day] = n + 1
            item: dict[str, Any] = {"pk": _imported_pk(tenant_id, connection, day), "sk": f"{export_id_}#{n:05d}"}
            batch.put_item(Item={**item, "ids": ",".join(ids)})
            count += len(ids)
    return count


def imported(tenant_id: str, connection: str, days: Iterable[date | str]) -> dict[str, set[str]]:
    """Day -> ids confirmed as imported on that day (only days that have any)."""
    found: dict[str, set[str]] = {}
    for day in days:
        key = day.isoformat() if isinstance(day, date) else day
        for item in query(_imported_pk(tenant_id, connection, key)):
            found.setdefault(key, set()).update(_ids(item))
    return found
