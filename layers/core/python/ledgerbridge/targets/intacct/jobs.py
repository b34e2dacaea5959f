"""The Intacct consumer's job runner: each job kind to its one path.

  record    the sync engine (ledgerbridge.sync), one platform record, with the tenant's Intacct mapping
  pull      one Intacct payment (its RECORDNO) back to the platform
  catchup   every payment modified since the tenant's cursor back to the platform, the cursor moving past
            each payment only after the platform agrees with it (targets.intacct.payments)

A PermanentError (not configured, refused credentials) is recorded in the sync log and not raised, so SQS never
retries it; a TransientError propagates to the consumer's retry policy (backoff, then the DLQ).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from ledgerbridge.errors import PermanentError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger
from ledgerbridge.state import cursors, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync import Engine
from ledgerbridge.targets.intacct.connection import open_target, settings_of
from ledgerbridge.targets.intacct.documents import IntacctDocuments
from ledgerbridge.targets.intacct.target import IntacctTarget
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import platform_for

LABEL = "Sage Intacct"
ENGINE_TTL_S = 300.0
_engines: dict[str, tuple[float, Engine]] = {}


def engine(tenant: Tenant) -> Engine:
    """The engine for a tenant's Intacct company, reused by a warm container (its session) for a few minutes
    until the tenant's settings change. Documents carry the tenant's own Intacct settings (dimensions,
    accounts, terms), which a tenant-independent Plugin.documents cannot."""
    key = hashlib.sha256(tenant.model_dump_json().encode()).hexdigest()
    cached = _engines.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    built = Engine(
        tenant=tenant,
        platform=platform_for(tenant),
        target=open_target(tenant),
        documents=IntacctDocuments(settings_of(tenant)),
        target_label=LABEL,
    )
    if len(_engines) > 64:
        _engines.clear()
    _engines[key] = (time.monotonic() + ENGINE_TTL_S, built)
    return built


def reset() -> None:
    _engines.clear()


def run(job: SyncJob) -> None:
    tenant = tenant_store.load(job.tenant_id)
    if job.kind == "record":
        engine(tenant).run(job)  # records its own permanent failures, per record
        return
    try:
        current = engine(tenant)
        target = current.target
        assert isinstance(target, IntacctTarget)
        if job.kind == "pull":
            pulled = target.pull(job, current.platform)
            synclog.for_job(job, pulled.outcome, pulled.message, pulled.target_id)
        elif job.kind == "catchup":
            since = cursors.read(tenant.tenant_id, target.cursor_name)
            found = target.changes(since, datetime.now(UTC))
            logger.info("intacct payments", extra={"payments": found.seen, "cursor": found.cursor})
        else:
            raise PermanentError("batch pushes to Sage Intacct are not available yet", code="unsupported")
    except PermanentError as exc:
        synclog.for_job(job, "failed", f"{exc}" + (f" (code {exc.code})" if exc.code else ""))
