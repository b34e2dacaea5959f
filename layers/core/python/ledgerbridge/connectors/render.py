"""Streaming render: rows in, encoded chunks out, with a running summary.

    summary = RenderSummary()
    for chunk in render(layout, rows, summary):
        upload_part(chunk)                     # e.g. S3 multipart; memory stays flat
    manifest = summary.manifest()              # rows, totals, sha256 of exactly the bytes yielded

A document (an invoice with its lines, a PO with its lines, a cost, a labor row) is written whole or not at
all: when one of its cells cannot be written (too long with overflow: reject, a required value missing,
an unencodable character with unencodable: reject) the document is left out and a Problem is added to the
summary. Under the tenant's `hold_run` policy the caller then discards the upload (`summary.held(policy)`).
Output depends only on the layout and the rows: the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import filterfalse, islice
from operator import attrgetter, itemgetter
from typing import Any

from ledgerbridge.connectors.cells import CellError
from ledgerbridge.connectors.compiler import CompiledLayout, CompiledRecord, RowRejected, compile_layout
from ledgerbridge.connectors.layout import Layout
from ledgerbridge.connectors.rows import DOCUMENT, Row
from ledgerbridge.connectors.validation import Policy, Problem, problem

DEFAULT_CHUNK_ROWS = 2048
_LEVEL = attrgetter("level")
_COMPILED: dict[str, CompiledLayout] = {}


def compiled(layout: Layout | CompiledLayout) -> CompiledLayout:
    """The compiled form, memoised per layout content (its cell caches then stay warm across runs)."""
    if isinstance(layout, CompiledLayout):
        return layout
    key = layout.model_dump_json()
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) >= 64:
            _COMPILED.clear()
        found = _COMPILED[key] = compile_layout(layout)
    return found


@dataclass
class RenderSummary:
    rows: int = 0
    documents: int = 0
    bytes: int = 0
    rows_by_record: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    totals: dict[str, Decimal] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _hash: Any = field(default_factory=hashlib.sha256, repr=False)

    @property
    def sha256(self) -> str:
        return str(self._hash.hexdigest())

    def held(self, policy: Policy) -> bool:
        """True when the run must not be delivered: hold_run and any document was left out."""
        return policy == "hold_run" and bool(self.problems)

    def manifest(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "documents": self.documents,
            "bytes": self.bytes,
            "rows_by_record": dict(self.rows_by_record),
            "totals": {k: str(v) for k, v in sorted(self.totals.items())},
            "sha256": self.sha256,
            "problems": len(self.problems),
        }


def render(
    layout: Layout | CompiledLayout,
    rows: Iterable[Row],
    summary: RenderSummary | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    timezone: str = "UTC",
) -> Iterator[bytes]:
    """Encoded chunks of the file (about `chunk_rows` lines each); `summary` is updated as they go.

    The layout is compiled (or a LayoutError raised) before the first chunk is asked for.
    """
    return _Stream(compiled(layout), summary if summary is not None else RenderSummary(), chunk_rows, timezone).run(
        rows
    )


def render_bytes(layout: Layout | CompiledLayout, rows: Iterable[Row], summary: RenderSummary | None = None) -> bytes:
    """The whole file at once (small files, tests)."""
    return b"".join(render(layout, rows, summary))


_FIXES = {
    "missing_value": "Fill in the value on the platform (or its mapping), then export again",
    "too_long": "Shorten the value on the platform, or widen the field / set overflow: truncate in the layout",
    "bad_character": "Remove the character on the platform, or change the layout's encoding policy",
    "cannot_export": "Correct the value on the platform, or the field in the layout",
}


def _code(message: str) -> str:
    if "required" in message:
        return "missing_value"
    if "longer than" in message or "wider than" in message or "digits before" in message:
        return "too_long"
    if "encode" in message or "control character" in message:
        return "bad_character"
    return "cannot_export"


class _Stream:
    def __init__(self, layout: CompiledLayout, summary: RenderSummary, chunk_rows: int, timezone: str) -> None:
        self.c = layout
        self.summary = summary
        self.chunk_rows = max(1, chunk_rows)
        self.timezone = timezone
        self.out: list[str] = [layout.header] if layout.header else []
        self.logs: dict[str, list[tuple[Any, ...]]] = {}
        self.first = True
        for records in layout.records:
            for rec in records:
                for label, _index, _amounts in rec.totals:
                    summary.totals.setdefault(label, Decimal(0))

    def run(self, rows: Iterable[Row]) -> Iterator[bytes]:
        documents, lines = self.c.records
        if len(documents) == 1 and not lines:
            yield from self.single(documents[0], rows)
        else:
            yield from self.general(rows)
        if self.out or self.first:
            yield self.flush()

    def reject(self, row: Row, exc: RowRejected) -> None:
        code = _code(exc.message)
        self.summary.problems.append(
            problem(row.record, code, f"{exc.record}.{exc.field} {exc.message}", _FIXES[code], exc.field, self.timezone)
        )

    def single(self, rec: CompiledRecord, rows: Iterable[Row]) -> Iterator[bytes]:
        """One record type per document: each chunk is rendered column by column, entirely in C loops
        (getter, cell caches, `%`); a chunk holding a row that cannot be written is redone row by row."""
        log = self.logs.setdefault(rec.name, [])
        getter, template, cells = rec.getter, rec.template, rec.cells
        fields = [(itemgetter(i), cell) for i, cell in enumerate(cells)]
        source = iter(rows)
        while chunk := list(islice(source, self.chunk_rows)):
            batch = list(filterfalse(_LEVEL, chunk))  # documents only (level 0)
            try:
                keys = list(map(getter, batch))
                if fields:
                    columns = [list(map(cell, map(pick, keys))) for pick, cell in fields]
                    lines = list(map(template.__mod__, zip(*columns, strict=True)))
                else:
                    lines = [template % ()] * len(keys)
            except (AttributeError, CellError):
                keys, lines = [], []
                for row in batch:
                    try:
                        line, key = rec.render(row)
                    except RowRejected as exc:
                        self.reject(row, exc)
                        continue
                    lines.append(line)
                    keys.append(key)
            if lines:
                self.out.extend(lines)
                log.extend(keys)
                yield self.flush()

    def general(self, rows: Iterable[Row]) -> Iterator[bytes]:
        by_level = self.c.records
        pending: list[tuple[CompiledRecord, str, tuple[Any, ...]]] = []
        document_ok = True
        for row in rows:
            if row.level == DOCUMENT:
                if pending:
                    self.commit(pending)
                    if len(self.out) >= self.chunk_rows:
                        yield self.flush()
                document_ok = True
            elif not document_ok:
                continue
            for rec in by_level[row.level]:
                try:
                    line, keys = rec.render(row)
                except RowRejected as exc:
                    self.reject(row, exc)
                    pending.clear()
                    document_ok = False
                    break
                pending.append((rec, line, keys))
        if pending:
            self.commit(pending)

    def commit(self, pending: list[tuple[CompiledRecord, str, tuple[Any, ...]]]) -> None:
        for rec, line, keys in pending:
            self.out.append(line)
            self.logs.setdefault(rec.name, []).append(keys)
        self.summary.documents += 1
        pending.clear()

    def flush(self) -> bytes:
        data = "".join(self.out).encode(self.c.encoding)
        self.out.clear()
        if self.first:
            data = self.c.bom + data
            self.first = False
        s = self.summary
        s._hash.update(data)
        s.bytes += len(data)
        for records in self.c.records:
            for rec in records:
                log = self.logs.get(rec.name)
                if not log:
                    continue
                for label, index, amounts in rec.totals:
                    got = sum(map(amounts.__getitem__, map(itemgetter(index), log)), Decimal(0))
                    s.totals[label] = s.totals.get(label, Decimal(0)) + got
                s.rows += len(log)
                s.rows_by_record[rec.name] += len(log)
                if rec.level == DOCUMENT and len(self.c.records[0]) == 1 and not self.c.records[1]:
                    s.documents += len(log)
                log.clear()
        return data
