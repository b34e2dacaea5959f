"""The hourly tick: which tenants' connectors are due, and one export job per due connection and period.

At a connector's due tick the job is its last complete period, plus any earlier period after the
connection's cursor (a tick that never ran, a run held by validation): the cursor only moves when a file
is delivered, so a missed or held period is retried at every due tick until it goes through (at most
`periods.catch_up`'s limit back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ledgerbridge.exports import periods
from ledgerbridge.queues import FifoMessage, send_fifo
from ledgerbridge.tenants import ConnectionName, ConnectorName, Tenant

CursorReader = Callable[[str, str], str | None]  # (tenant_id, cursor name) -> value


class ExportJob(BaseModel):
    """The message on the export queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    connector: ConnectorName
    connection: ConnectionName
    period: str
    trigger: str = "schedule"

    @property
    def dedupe_id(self) -> str:
        basis = f"{self.tenant_id}/{self.connector}/{self.connection}/{self.period}"
        return hashlib.sha256(basis.encode()).hexdigest()[:64]

    @property
    def group_id(self) -> str:
        return f"{self.tenant_id}#{self.connector}#{self.connection}"


def cursor_name(connector: str, connection: str) -> str:
    """The cursor of one connection: the last local day that a delivered export covered (ISO date)."""
    return f"export#{connector}#{connection}"


def due_jobs(tenants: Iterable[Tenant], scheduled_utc: datetime, cursor: CursorReader) -> Iterator[ExportJob]:
    for tenant in tenants:
        for settings in tenant.connectors:
            period = periods.due(settings, tenant.timezone, scheduled_utc)
            if period is None:
                continue
            for connection in settings.connections:
                done = cursor(tenant.tenant_id, cursor_name(settings.connector, connection))
                for each in periods.catch_up(period, done):
                    yield ExportJob(
                        tenant_id=tenant.tenant_id,
                        connector=settings.connector,
                        connection=connection,
                        period=each.label,
                    )


def enqueue(jobs: Iterable[ExportJob], queue_url: str) -> int:
    """Send jobs in batches of 10. The dedupe id makes a second tick for the same period a no-op for
    SQS's 5-minute window; the worker's stable key and manifest make any later duplicate harmless.
    A batch entry that SQS refuses raises, so the scheduler retries the tick (re-sent jobs are deduped)."""
    return send_fifo(queue_url, (FifoMessage(job.model_dump_json(), job.group_id, job.dedupe_id) for job in jobs))
