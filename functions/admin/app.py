"""Admin routes (IAM-authorized in template.yaml): tenants, their credentials and their sync log."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from ledgerbridge import admin
from ledgerbridge.api import make_resolver
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.tenants import Tenant

app = make_resolver()


class CreateTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: Tenant
    secrets: admin.TenantSecrets = admin.TenantSecrets()


class UpdateTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = {}
    secrets: admin.TenantSecrets = admin.TenantSecrets()


class CredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str


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
def issue_credential(tenant_id: str, request: CredentialRequest) -> Response[Any]:
    value = admin.issue_credential(tenant_id, request.purpose)
    return Response(status_code=201, content_type="application/json", body={"credential": value})


@app.get("/admin/tenants/<tenant_id>/sync-log")
def sync_log(tenant_id: str) -> dict[str, Any]:
    tenant_store.load(tenant_id)
    return {"entries": [e.__dict__ for e in synclog.recent(tenant_id)]}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
