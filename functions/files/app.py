"""The file drop API (bearer: a tenant credential of purpose `files`):

GET  /tenants/{tenant_id}/exports                           the tenant's exports with their manifests
GET  /tenants/{tenant_id}/exports/{export_id}/download      302 to a presigned GET (?part=errors: the error file)
POST /tenants/{tenant_id}/exports/{export_id}/confirm       the file is imported: invoices become processed
                                                            (bounded: 202 while some remain; POST again)
PUT  /tenants/{tenant_id}/layouts/{layout_name}             save a custom layout (400 names the field path)
GET  /tenants/{tenant_id}/targets/{target}/{name}           a target's setup file (its plug-in's `downloads`)
GET  /openapi.json                                          this API's OpenAPI document
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import aws, config, files, wiring
from ledgerbridge.api import HttpError, bearer, json_body, make_resolver, require_tenant
from ledgerbridge.config import FilesEnvironment, get_config
from ledgerbridge.errors import NotFound, PermanentError, TransientError
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import exports, layouts
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.state.tenants import Scope
from ledgerbridge.targets import registry

ENV = config.check(FilesEnvironment)  # cold start: a missing setting fails the init, by name

app = make_resolver()
LAYOUT_MAX_BYTES = 256 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _authorize(tenant_id: str, scope: Scope = "files") -> None:
    require_tenant(tenant_id, bearer(app.current_event.headers), scope)
    logger.append_keys(tenant_id=tenant_id)


@app.get("/tenants/<tenant_id>/exports")
def list_exports(
    tenant_id: str,
    connection: Annotated[str, Query(max_length=40)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response[Any]:
    _authorize(tenant_id)
    found = exports.list_for(tenant_id, limit=limit, connection=connection)
    body = {"exports": [files.public(m) for m in found]}
    return Response(status_code=200, content_type="application/json", body=body, headers=NO_STORE)


@app.get("/tenants/<tenant_id>/exports/<export_id>/download")
def download(
    tenant_id: str, export_id: str, part: Annotated[Literal["file", "errors"], Query()] = "file"
) -> Response[Any]:
    _authorize(tenant_id)
    cfg = get_config()
    url = files.download_link(
        aws.client("s3"), cfg.file_drop_bucket, tenant_id, export_id, part, cfg.download_link_ttl_s
    )
    return Response(
        status_code=302,
        content_type="application/json",
        body={"url": url},
        headers={"Location": url, **NO_STORE},
    )


@app.post(
    "/tenants/<tenant_id>/exports/<export_id>/confirm",
    responses={
        200: {"description": "Confirmed: the manifest (`status` confirmed, `remaining` 0). Repeatable."},
        202: {
            "description": f"Confirmed in part: a call marks at most {files.CONFIRM_LIMIT} invoices. The manifest "
            "(`status` still ready) with `confirmed_records` marked so far and `remaining`; POST again to go on "
            "(docs/exports.md, Confirm)."
        },
    },
)
def confirm(tenant_id: str, export_id: str) -> Response[Any]:
    _authorize(tenant_id)
    left_s = app.lambda_context.get_remaining_time_in_millis() / 1000
    try:
        manifest = files.confirm_within(
            tenant_id, export_id, lambda: wiring.platform_for(tenant_store.load(tenant_id)), left_s
        )
    except TransientError as exc:
        raise HttpError(503, f"the field-service platform is unavailable; try again: {exc}") from exc
    except PermanentError as exc:
        raise HttpError(409, f"the field-service platform refused the update: {exc}") from exc
    remaining = files.confirm_remaining(manifest)
    body = {**files.public(manifest), "remaining": remaining}
    return Response(status_code=202 if remaining else 200, content_type="application/json", body=body)


@app.put("/tenants/<tenant_id>/layouts/<layout_name>")
def save_layout(tenant_id: str, layout_name: str) -> Response[Any]:
    _authorize(tenant_id, "layouts")
    data = json_body(app.current_event.body, LAYOUT_MAX_BYTES)
    if not isinstance(data, dict):
        raise HttpError(400, "layout: must be a JSON object", "layout")
    layout = layouts.save(tenant_id, layouts.check_name(layout_name), data)
    body = {"name": layout_name, "connector": layout.connector, "connection": layout.connection,
            "records": len(layout.records), "use_with": {"layouts": {layout.connection: layout_name}}}  # fmt: skip
    return Response(status_code=200, content_type="application/json", body=body)


@app.get("/tenants/<tenant_id>/targets/<target>/<name>")
def target_download(tenant_id: str, target: str, name: str) -> Response[Any]:
    _authorize(tenant_id)
    plugin = registry.get(target) if target in registry.names() else None
    download = next((d for d in plugin.downloads if d.name == name), None) if plugin is not None else None
    if plugin is None or download is None:
        raise NotFound(f"no download {name!r} for target {target!r}")
    tenant = tenant_store.load(tenant_id)
    if tenant.integration(target) is None:
        raise HttpError(409, f"{plugin.label} is not enabled for this tenant")
    event = app.current_event
    host = (event.headers or {}).get("Host") or (event.headers or {}).get("host") or "localhost"
    stage = event.request_context.stage
    base = f"http://{host}" if host.split(":")[0] in ("localhost", "127.0.0.1") else f"https://{host}/{stage}"
    headers = {"Content-Disposition": f'attachment; filename="{download.filename(tenant_id)}"', **NO_STORE}
    return Response(status_code=200, content_type=download.media_type, body=download.render(tenant, base),
                    headers=headers)  # fmt: skip


@app.get("/openapi.json")
def openapi() -> Response[Any]:
    document = resources.files("ledgerbridge").joinpath("openapi.json")
    if not document.is_file():
        raise NotFound("no OpenAPI document is shipped with this build (make openapi)")
    return Response(status_code=200, content_type="application/json", body=document.read_text(encoding="utf-8"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry secrets
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
