"""Admin routes (IAM-authorized in template.yaml): tenants, their credentials and their sync log."""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ledgerbridge import admin, config
from ledgerbridge.api import error_response, make_resolver
from ledgerbridge.config import ApiEnvironment
from ledgerbridge.console import activity, replay
from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.records import InvoiceStatus
from ledgerbridge.state import synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync.engine import plan_report
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import engine_for, platform_for

ENV = config.check(ApiEnvironment)  # cold start: a missing setting fails the init, by name

app = make_resolver()
MAX_DRY_RUN = 200


@app.exception_handler(PermanentError)
def _refused(exc: PermanentError) -> Response[str]:
    return error_response(502, f"the platform or the accounting system refused: {exc}")


@app.exception_handler(TransientError)
def _unavailable(exc: TransientError) -> Response[str]:
    return error_response(503, f"the platform or the accounting system could not be reached; try again ({exc})")


class CreateTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: Tenant
    secrets: admin.TenantSecrets = admin.TenantSecrets()


class UpdateTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = {}
    secrets: admin.TenantSecrets = admin.TenantSecrets()


class DryRunRequest(BaseModel):
    """Either named invoices, or every invoice in a status (optionally within transaction dates); for one target
    (default: the tenant's first enabled integration)."""

    model_config = ConfigDict(extra="forbid")
    target: str = Field(default="", max_length=40)
    invoice_ids: list[str] = Field(default_factory=list, max_length=200)
    status: InvoiceStatus = "pending_accounting"  # the platform's own statuses: anything else is a 400 here
    transaction_after: date | None = None
    transaction_before: date | None = None
    offset: int = Field(
        default=0, ge=0, le=1_000_000, description="skip this many listed invoices: a page's next_offset"
    )


@app.post("/admin/tenants")
def create_tenant(request: CreateTenantRequest) -> Response[Any]:
    created = admin.create_tenant(request.tenant, request.secrets)
    return Response(status_code=201, content_type="application/json", body=created.model_dump(mode="json"))


@app.get("/admin/tenants/<tenant_id>")
def show_tenant(tenant_id: str) -> dict[str, Any]:
    return tenant_store.load(tenant_id).model_dump(mode="json")


@app.put("/admin/tenants/<tenant_id>")
def update_tenant(tenant_id: str, request: UpdateTenantRequest) -> dict[str, Any]:
    return admin.update_tenant(tenant_id, request.changes, request.secrets).model_dump(mode="json")


@app.post("/admin/tenants/<tenant_id>/credentials")
def issue_credential(tenant_id: str, request: admin.CredentialRequest) -> Response[Any]:
    value = admin.issue_credential(tenant_id, request)
    return Response(status_code=201, content_type="application/json", body={"credential": value})


@app.get("/admin/tenants/<tenant_id>/credentials")
def list_credentials(tenant_id: str) -> dict[str, Any]:
    return {"credentials": [c.as_dict() for c in admin.credentials(tenant_id)]}


@app.delete("/admin/tenants/<tenant_id>/credentials/<key_id>")
def revoke_credential(tenant_id: str, key_id: str) -> Response[str]:
    admin.revoke_credential(tenant_id, key_id)
    return Response(status_code=204, body="")


@app.get("/admin/tenants/<tenant_id>/sync-log")
def sync_log(tenant_id: str) -> dict[str, Any]:
    tenant_store.load(tenant_id)
    return {"entries": [e.__dict__ for e in synclog.recent(tenant_id)]}


@app.post("/admin/tenants/<tenant_id>/dry-run")
def dry_run(tenant_id: str, request: DryRunRequest) -> dict[str, Any]:
    """What a sync would do now, with a field-level diff; writes nothing. A listing is answered a page of
    MAX_DRY_RUN invoices at a time (API Gateway's 29 s): `next_offset` asks for the next page, null at the end."""
    tenant = tenant_store.load(tenant_id)
    engine = engine_for(tenant, admin.integration_plugin(tenant, request.target))
    next_offset: int | None = None
    ids = request.invoice_ids
    if not ids:
        # One past the page tells whether another follows; the listing stops paging there.
        listed = platform_for(tenant).invoices(
            status=request.status,
            transaction_after=request.transaction_after,
            transaction_before=request.transaction_before,
        )
        ids = [i.source_id for i in islice(listed, request.offset, request.offset + MAX_DRY_RUN + 1)]
        if len(ids) > MAX_DRY_RUN:
            ids, next_offset = ids[:MAX_DRY_RUN], request.offset + MAX_DRY_RUN
    return {"plan": plan_report(engine, "invoice", ids), "next_offset": next_offset}


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_ids: list[str] = Field(default_factory=list, max_length=100, description="none: all of the tenant's")


class RetryFailedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime = Field(description="every record whose latest outcome since then is a failure is retried")


def _targets(tenant: Tenant) -> list[str]:
    return [i.target for i in tenant.integrations if i.enabled]


@app.get("/admin/tenants/<tenant_id>/dead-letters")
def dead_letters(tenant_id: str) -> dict[str, Any]:
    """The tenant's sync jobs that exhausted their retries (moved to a dead-letter queue)."""
    tenant = tenant_store.load(tenant_id)
    return {"dead_letters": [replay.public(d) for d in replay.dead_letters(tenant_id, _targets(tenant))]}


@app.post("/admin/tenants/<tenant_id>/dead-letters/replay")
def replay_dead_letters(tenant_id: str, request: ReplayRequest) -> dict[str, Any]:
    """Send dead letters back to their queue with their original event ids (a replay never duplicates)."""
    tenant = tenant_store.load(tenant_id)
    return {"replayed": replay.replay(tenant_id, _targets(tenant), request.message_ids)}


@app.post("/admin/tenants/<tenant_id>/retry-failed")
def retry_failed(tenant_id: str, request: RetryFailedRequest) -> dict[str, Any]:
    tenant = tenant_store.load(tenant_id)
    jobs = activity.retry_failed_since(tenant_id, request.since, activity.reopen_failed(tenant), publish_jobs)
    return {"retried": [job.model_dump(mode="json") for job in jobs]}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry secrets
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
