"""A run's scratch space on local disk (Lambda's /tmp): records read from the platform, labor entries grouped
by technician, labor rows in file order, and the ids the file delivers, so a run's memory holds one page,
one technician or one chunk at a time whatever the period's size. One SQLite file per run, deleted after.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel

from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.records import LaborEntry, Ref

M = TypeVar("M", bound=BaseModel)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BATCH = 5000

_SCHEMA = """
CREATE TABLE docs (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE entries (tech TEXT, clock_in INTEGER, id TEXT, tech_name TEXT, emp TEXT, job_id TEXT,
                      job_name TEXT, activity TEXT, clock_out INTEGER);
CREATE TABLE rows (work_date TEXT, emp TEXT, tech TEXT, job_number TEXT, job_id TEXT, overtime INTEGER,
                   tech_name TEXT, job_name TEXT, hours TEXT, entry_ids TEXT);
CREATE TABLE delivered (day TEXT, id TEXT, PRIMARY KEY (day, id)) WITHOUT ROWID;
"""


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class Spool(Generic[M]):
    """Scratch tables for one run. Use as a context manager; the file is removed on exit."""

    def __init__(self, model: type[M] | None = None, directory: str | None = None) -> None:
        self.model = model
        fd, self.path = tempfile.mkstemp(prefix="export-", suffix=".sqlite", dir=directory)
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;")
        self.db.executescript(_SCHEMA)

    def __enter__(self) -> Spool[M]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        if os.path.exists(self.path):
            os.remove(self.path)

    # --- documents (invoices, purchase orders, costs): kept in arrival order ---------------------------------
    def add_docs(self, records: Iterable[M]) -> int:
        def bodies() -> Iterator[tuple[str]]:
            for record in records:
                yield (record.model_dump_json(),)

        return self._insert("INSERT INTO docs (body) VALUES (?)", bodies())

    def doc_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def docs(self) -> Iterator[M]:
        assert self.model is not None, "a document spool needs its model"
        validate = self.model.model_validate_json
        for (body,) in self.db.execute("SELECT body FROM docs ORDER BY seq"):
            yield validate(body)

    # --- labor entries, grouped by technician --------------------------------------------------------------
    def add_entries(self, entries: Iterable[LaborEntry]) -> int:
        def values() -> Iterator[tuple[object, ...]]:
            for e in entries:
                out = None if e.clock_out is None else _us(e.clock_out)
                yield (e.technician.id, _us(e.clock_in), e.source_id, e.technician.name, e.employee_number,
                       e.job.id, e.job.name, e.activity, out)  # fmt: skip

        count = self._insert("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)", values())
        self.db.execute("CREATE INDEX IF NOT EXISTS entries_by_tech ON entries (tech, clock_in, id)")
        return count

    def technicians(self) -> list[str]:
        return [t for (t,) in self.db.execute("SELECT DISTINCT tech FROM entries ORDER BY tech")]

    def job_ids(self) -> list[str]:
        return [j for (j,) in self.db.execute("SELECT DISTINCT job_id FROM entries ORDER BY job_id")]

    def entries_of(self, technician_id: str) -> list[LaborEntry]:
        """One technician's entries in clock-in order (validated when they were read from the platform, so
        rebuilt without validation; references are immutable and shared)."""
        cursor = self.db.execute("SELECT * FROM entries WHERE tech = ? ORDER BY clock_in, id", (technician_id,))
        refs: dict[tuple[str, str], Ref] = {}

        def ref(rid: str, name: str) -> Ref:
            found = refs.get((rid, name))
            if found is None:
                found = refs[(rid, name)] = Ref.model_construct(id=rid, name=name)
            return found

        construct = LaborEntry.model_construct
        return [
            construct(
                source_id=sid,
                technician=ref(tech, name),
                employee_number=emp,
                job=ref(job_id, job_name),
                activity=activity,
                clock_in=_moment(clock_in),
                clock_out=None if clock_out is None else _moment(clock_out),
            )
            for tech, clock_in, sid, name, emp, job_id, job_name, activity, clock_out in cursor
        ]

    # --- labor rows, read back in the order build_labor sorts them ------------------------------------------
    def add_rows(self, rows: Iterable[LaborRow]) -> int:
        def values() -> Iterator[tuple[object, ...]]:
            for r in rows:
                yield (r.work_date.isoformat(), r.employee_number, r.technician_id, r.job_number, r.job_id,
                       int(r.pay_type != "regular"), r.technician_name, r.job_name, str(r.hours),
                       ",".join(r.entry_ids))  # fmt: skip

        return self._insert("INSERT INTO rows VALUES (?,?,?,?,?,?,?,?,?,?)", values())

    def row_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM rows").fetchone()[0])

    def rows(self) -> Iterator[LaborRow]:
        # SQLite compares TEXT as UTF-8 bytes, which is code point order: the same order as Python's sort.
        cursor = self.db.execute("SELECT * FROM rows ORDER BY work_date, emp, tech, job_number, job_id, overtime")
        for work_date, emp, tech, job_number, job_id, overtime, name, job_name, hours, ids in cursor:
            yield LaborRow(
                work_date=date.fromisoformat(work_date),
                employee_number=emp,
                technician_id=tech,
                technician_name=name,
                job_id=job_id,
                job_name=job_name,
                job_number=job_number,
                pay_type="overtime" if overtime else "regular",
                hours=Decimal(hours),
                entry_ids=tuple(ids.split(",")) if ids else (),
            )

    # --- what the file delivers: (day, id) ------------------------------------------------------------------
    def add_delivered(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._insert("INSERT OR IGNORE INTO delivered VALUES (?, ?)", pairs)

    def drop_delivered(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM delivered WHERE day = ? AND id = ?", list(pairs))

    def drop_delivered_ids(self, ids: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM delivered WHERE id = ?", [(i,) for i in ids])

    def delivered(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute("SELECT day, id FROM delivered ORDER BY day, id")

    def delivered_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM delivered").fetchone()[0])

    def _insert(self, sql: str, values: Iterable[tuple[object, ...]]) -> int:
        count = 0
        batch: list[tuple[object, ...]] = []
        for value in values:
            batch.append(value)
            if len(batch) == _BATCH:
                self.db.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            self.db.executemany(sql, batch)
            count += len(batch)
        return count
