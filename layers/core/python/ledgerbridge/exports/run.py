"""One export run: a tenant's connection for one period, from the platform to a file in the tenant's S3 prefix.

    manifest = run_export(tenant, job, source, s3, bucket, now)

1. The layout: the tenant's custom one (`ConnectorSettings.layouts[connection]`) or the built-in.
2. Gather (exports/gather.py): read the period's records, leave out those confirmed as imported, validate.
3. Under `hold_run` with problems: nothing is uploaded (an earlier file at the key is removed), the
   error file is written, the manifest says `held`, the cursor stays.
4. Render and stream to `<tenant>/<connector>/<connection>/<period>/<connection>-<period>.<ext>` by
   multipart upload; problems found while rendering under `hold_run` abort the upload (step 3 again).
5. The error file beside the export (or none), the delivered record ids, the manifest, and only then the
   cursor. A failure anywhere before leaves the cursor where it was, and SQS retries the whole run: the key
   is the same and the bytes are the same (the output depends only on the layout and the records).

A period already confirmed as imported that has nothing new keeps its confirmed export untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledgerbridge.connectors import Layout, Problem, RenderSummary, RunInfo, error_file, error_file_key, load_builtin
from ledgerbridge.connectors import render as render_rows
from ledgerbridge.errors import InvalidInput
from ledgerbridge.exports import gather, periods, s3writer
from ledgerbridge.exports.dispatch import ExportJob, cursor_name
from ledgerbridge.exports.gather import Context, Gathered, Platform, Progress
from ledgerbridge.exports.spool import Spool
from ledgerbridge.state import cursors, exports, layouts
from ledgerbridge.state.exports import Manifest
from ledgerbridge.tenants import ConnectorSettings, Tenant

MANIFEST_PROBLEMS = 20  # problems kept in the manifest; the error file has every one


def _quiet(phase: str, done: int, total: int | None) -> None:
    pass


def settings_for(tenant: Tenant, connector: str, connection: str) -> ConnectorSettings:
    settings = tenant.connector(connector)
    if settings is None:
        raise InvalidInput(f"tenant {tenant.tenant_id!r} has no enabled {connector!r} connector", "connector")
    if connection not in settings.connections:
        known = ", ".join(settings.connections)
        raise InvalidInput(f"connector {connector!r} does not export {connection!r} (it exports {known})", "connection")
    return settings


def layout_for(tenant_id: str, settings: ConnectorSettings, connection: str) -> tuple[Layout, str]:
    """(layout, name): the custom layout named in the settings, else the connector's built-in."""
    name = settings.layouts.get(connection)
    if not name:
        return load_builtin(settings.connector, connection), "builtin"
    layout = layouts.load(tenant_id, name)
    if layout.connection != connection:
        raise InvalidInput(f"custom layout {name!r} is for {layout.connection}, not {connection}", "layouts")
    return layout, name


def extension(layout: Layout) -> str:
    if layout.format == "delimited" and layout.delimiter == ",":
        return "csv"
    return "tsv" if layout.format == "delimited" and layout.delimiter == "\t" else "txt"


def export_key(tenant_id: str, connector: str, connection: str, period: str, ext: str) -> str:
    return f"{tenant_id}/{connector}/{connection}/{period}/{connection}-{period}.{ext}"


def run_export(
    tenant: Tenant,
    job: ExportJob,
    source: Platform,
    s3: Any,
    bucket: str,
    now: datetime,
    *,
    progress: Progress | None = None,
    scratch_dir: str | None = None,
) -> Manifest:
    if job.tenant_id != tenant.tenant_id:
        raise InvalidInput(f"job is for tenant {job.tenant_id!r}, not {tenant.tenant_id!r}", "tenant_id")
    settings = settings_for(tenant, job.connector, job.connection)
    period = periods.parse(job.period)
    periods.check_complete(period, tenant.timezone, now)
    layout, layout_name = layout_for(tenant.tenant_id, settings, job.connection)
    eid = exports.export_id(job.connector, job.connection, period.label)
    key = export_key(tenant.tenant_id, job.connector, job.connection, period.label, extension(layout))
    days = [d.isoformat() for d in period.days()]
    if job.connection == "labor_hours":
        days = [d.isoformat() for d in periods.Period("day", gather.lead_in_start(period), period.last).days()]
    ctx = Context(
        tenant=tenant,
        settings=settings,
        connection=job.connection,
        period=period,
        layout=layout,
        run=RunInfo(tenant.tenant_id, job.connector, job.connection, eid, period.first, period.last),
        imported=exports.imported(tenant.tenant_id, job.connection, days),
        progress=progress or _quiet,
    )
    base = Manifest(
        export_id=eid,
        tenant_id=tenant.tenant_id,
        connector=job.connector,
        connection=job.connection,
        period=period.label,
        period_start=period.first.isoformat(),
        period_end=period.last.isoformat(),
        layout=layout_name,
        trigger=job.trigger,
        created=now.astimezone(UTC).isoformat(),
    )
    with Spool(gather.MODELS[job.connection], scratch_dir) as spool:
        found = gather.GATHER[job.connection](ctx, source, spool)
        previous = exports.find(tenant.tenant_id, eid)
        if previous is not None and previous.status == "confirmed" and spool.delivered_count() == 0:
            return previous
        if settings.on_problem == "hold_run" and found.problems:
            return _held(s3, bucket, key, base, found.problems, found.held, previous)
        return _deliver(ctx, s3, bucket, key, base, found, spool, previous)


def _deliver(
    ctx: Context,
    s3: Any,
    bucket: str,
    key: str,
    base: Manifest,
    found: Gathered,
    spool: Spool[Any],
    previous: Manifest | None,
) -> Manifest:
    policy = ctx.settings.on_problem
    summary = RenderSummary()
    total = spool.row_count() or spool.doc_count() or None
    chunks = render_rows(ctx.layout, _rows_progress(found, ctx.progress, total), summary, timezone=ctx.timezone)
    content_type = f"{'text/csv' if key.endswith('.csv') else 'text/plain'}; charset={ctx.layout.encoding}"
    uploaded = s3writer.upload(s3, bucket, key, chunks, content_type, commit=lambda: not summary.held(policy))
    problems = [*found.problems, *summary.problems]
    if not uploaded.committed:
        return _held(s3, bucket, key, base, problems, found.held + len(summary.problems), previous)
    rejected = {part for p in summary.problems for part in p.source_id.split(",")}
    spool.drop_delivered_ids(rejected)
    error_key = _error_file(s3, bucket, key, problems)
    delivered = exports.save_records(base.tenant_id, base.export_id, spool.delivered())
    manifest = base.model_copy(
        update={
            "key": key,
            "error_key": error_key,
            "rows": summary.rows,
            "documents": summary.documents,
            "records": delivered,
            "held_records": found.held + len(summary.problems),
            "totals": {k: str(v) for k, v in sorted(summary.totals.items())},
            "sha256": uploaded.sha256,
            "size": uploaded.size,
            "parts": uploaded.parts,
            **_problem_fields(problems),
        }
    )
    exports.save(manifest)
    cursors.advance(base.tenant_id, cursor_name(base.connector, base.connection), ctx.period.last.isoformat())
    return manifest


def _rows_progress(found: Gathered, progress: Progress, total: int | None) -> Any:
    return gather.counted(found.rows(), "rendering", lambda phase, n, _t: progress(phase, n, total), 20_000)


def _held(
    s3: Any, bucket: str, key: str, base: Manifest, problems: list[Problem], held: int, previous: Manifest | None
) -> Manifest:
    if previous is None or previous.status != "confirmed":
        # A file from an earlier run of the period is no longer valid. A confirmed one is in the customer's
        # books: it stays (as a record of what was imported) until the bucket's lifecycle expires it.
        s3.delete_object(Bucket=bucket, Key=key)
    exports.save_records(base.tenant_id, base.export_id, [])
    manifest = base.model_copy(
        update={
            "status": "held",
            "error_key": _error_file(s3, bucket, key, problems),
            "held_records": held,
            "message": f"held: {len(problems)} problem(s) and the connector's policy is hold_run",
            **_problem_fields(problems),
        }
    )
    exports.save(manifest)
    return manifest


def _error_file(s3: Any, bucket: str, key: str, problems: list[Problem]) -> str:
    """Write the problems beside the export (or remove a stale error file); returns its key or ""."""
    error_key = error_file_key(key)
    if not problems:
        s3.delete_object(Bucket=bucket, Key=error_key)
        return ""
    s3.put_object(Bucket=bucket, Key=error_key, Body=error_file(problems), ContentType="text/csv; charset=utf-8")
    return error_key


def _problem_fields(problems: list[Problem]) -> dict[str, Any]:
    shown = [
        {"record_type": p.record_type, "source_id": p.source_id, "record": p.label, "code": p.code,
         "message": p.message, "fix": p.fix, "field": p.field}
        for p in problems[:MANIFEST_PROBLEMS]
    ]  # fmt: skip
    return {"problem_count": len(problems), "problems": shown}


def failed(job: ExportJob, message: str, now: datetime) -> Manifest | None:
    """Record a run that cannot succeed as configured (unknown connector, bad layout, revoked access), so
    the customer sees why. A period label that does not parse is not recorded (there is no such export),
    and an export already delivered for the period stays as it is."""
    try:
        period = periods.parse(job.period).label
    except InvalidInput:
        return None
    eid = exports.export_id(job.connector, job.connection, period)
    previous = exports.find(job.tenant_id, eid)
    if previous is not None and previous.status in ("ready", "confirmed"):
        return previous
    manifest = Manifest(
        export_id=eid,
        tenant_id=job.tenant_id,
        connector=job.connector,
        connection=job.connection,
        period=period,
        status="failed",
        message=message[:1000],
        trigger=job.trigger,
        created=now.astimezone(UTC).isoformat(),
    )
    exports.save(manifest)
    return manifest
