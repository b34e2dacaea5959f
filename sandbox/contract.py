"""What the routes' Powertools resolvers cannot say about themselves, added to the OpenAPI document: who may
call each route (security schemes), every status it answers with the error body's schema, the success status
when it is not 200, and query parameters the code reads by hand. Schemathesis (tests/integration/
test_schemathesis.py) checks the running API against all of it."""

from __future__ import annotations

from typing import Any

ERROR = "#/components/schemas/ErrorBody"
GATEWAY_ERROR = "#/components/schemas/GatewayError"

SCHEMAS: dict[str, Any] = {
    "ErrorBody": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the culprit: a body path, parameter or header"},
                },
            }
        },
    },
    "GatewayError": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}},
        "description": "API Gateway's own answer (no route, missing SigV4, payload over 10 MB)",
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerCredential": {
        "type": "http",
        "scheme": "bearer",
        "description": "a tenant API credential (lbk_...); its scopes say which routes it opens: "
        "files (list, download, confirm), layouts (save a layout), connect (QuickBooks Online)",
    },
    "webhookToken": {"type": "apiKey", "in": "query", "name": "token", "description": "the tenant's hook token"},
    "webhookTokenHeader": {"type": "apiKey", "in": "header", "name": "x-ledgerbridge-token"},
    "intuitSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "intuit-signature",
        "description": "base64 HMAC-SHA256 of the body, keyed by the app's verifier token (Intuit webhooks)",
    },
    "consoleSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "lb_console",
        "description": "the console's session cookie (HttpOnly, Secure, SameSite=Strict), from /console/login",
    },
    "sigv4": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "AWS Signature Version 4 (API Gateway's AWS_IAM authorizer)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
}

_DESCRIPTIONS = {
    302: "Found: see the Location header",
    400: "Bad input; `field` names the culprit",
    401: "Missing, invalid, expired or revoked credential or signature",
    403: "The credential lacks the scope this route needs",
    404: "Unknown tenant, record or path",
    409: "Conflicts with the current state",
    413: "Body over the size limit",
    415: "The body is not JSON",
    502: "The accounting system refused the request",
    503: "The accounting system or the platform could not be reached; try again",
}

Security = list[dict[str, list[str]]]
BEARER: Security = [{"bearerCredential": []}]
SIGV4: Security = [{"sigv4": []}]
PUBLIC: Security = []


def _required_query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}} for n in names]


# (method, path): (security, success status, error statuses, extra parameters)
ROUTES: dict[tuple[str, str], tuple[Security, int, tuple[int, ...], list[dict[str, Any]]]] = {
    ("post", "/admin/tenants"): (SIGV4, 201, (400,), []),
    ("get", "/admin/tenants/{tenant_id}"): (SIGV4, 200, (404,), []),
    ("put", "/admin/tenants/{tenant_id}"): (SIGV4, 200, (400, 404), []),
    ("post", "/admin/tenants/{tenant_id}/credentials"): (SIGV4, 201, (400, 404), []),
    ("get", "/admin/tenants/{tenant_id}/credentials"): (SIGV4, 200, (404,), []),
    ("delete", "/admin/tenants/{tenant_id}/credentials/{key_id}"): (SIGV4, 204, (404,), []),
    ("get", "/admin/tenants/{tenant_id}/sync-log"): (SIGV4, 200, (404,), []),
    ("get", "/admin/tenants/{tenant_id}/dead-letters"): (SIGV4, 200, (404,), []),
    ("post", "/admin/tenants/{tenant_id}/dead-letters/replay"): (SIGV4, 200, (400, 404), []),
    ("post", "/admin/tenants/{tenant_id}/retry-failed"): (SIGV4, 200, (400, 404), []),
    ("post", "/admin/tenants/{tenant_id}/dry-run"): (SIGV4, 200, (400, 404, 502, 503), []),
    ("get", "/oauth/qbo/callback"): (PUBLIC, 200, (400, 409, 502, 503), _required_query("state", "code", "realmId")),
    ("get", "/openapi.json"): (PUBLIC, 200, (404,), []),
    ("post", "/qbwc/{tenant_id}"): (PUBLIC, 200, (404,), []),
    ("get", "/qbwc/{tenant_id}"): (PUBLIC, 200, (404,), []),
    ("get", "/tenants/{tenant_id}/targets/{target}/{name}"): (BEARER, 200, (400, 401, 403, 404, 409), []),
    ("get", "/tenants/{tenant_id}/exports"): (BEARER, 200, (400, 401, 403, 404), []),
    ("get", "/tenants/{tenant_id}/exports/{export_id}/download"): (BEARER, 302, (400, 401, 403, 404), []),
    ("post", "/tenants/{tenant_id}/exports/{export_id}/confirm"): (BEARER, 200, (401, 403, 404, 409, 503), []),
    ("put", "/tenants/{tenant_id}/layouts/{layout_name}"): (BEARER, 200, (400, 401, 403, 404, 413), []),
    ("get", "/tenants/{tenant_id}/qbo/connect"): (BEARER, 302, (401, 403, 404, 502, 503), []),
    ("post", "/tenants/{tenant_id}/qbo/disconnect"): (BEARER, 200, (401, 403, 404), []),
    ("get", "/tenants/{tenant_id}/qbo/status"): (BEARER, 200, (401, 403, 404), []),
    ("post", "/webhooks/qbo"): ([{"intuitSignature": []}], 200, (400, 401, 413), []),
    ("post", "/webhooks/{tenant_id}"): (
        [{"webhookToken": []}, {"webhookTokenHeader": []}],
        202,
        (400, 401, 404, 413),
        [],
    ),
}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": ref}}}


def apply(method: str, path: str, operation: dict[str, Any]) -> None:
    """Complete one operation of the generated document in place."""
    if path.startswith("/console"):  # HTML pages: their answers are pages and redirects, described by their resolver
        public = path in ("/console", "/console/login", "/console/signin", "/console/console.css")
        operation["security"] = PUBLIC if public else [{"consoleSession": []}]
        operation.get("responses", {}).pop("422", None)  # Powertools' default; the console answers with a page
        return
    security, success, errors, extra = ROUTES[(method, path)]
    operation["security"] = security
    generated = operation.get("responses", {})
    ok = generated.get("200") or {"description": "Success"}
    responses: dict[str, Any] = {}
    if path == "/tenants/{tenant_id}/targets/{target}/{name}":  # a target's setup file (the Web Connector's .qwc)
        responses["200"] = {
            "description": "The file, as an attachment",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    elif path.startswith("/qbwc/"):  # SOAP: the answer and its faults are XML (a fault is a 500 by SOAP 1.1)
        xml = {"text/xml": {"schema": {"type": "string"}}}
        responses["200"] = {"description": "SOAP response", "content": xml}
        responses["500"] = {"description": "SOAP fault", "content": xml}
    elif success == 204:
        responses["204"] = {"description": "Done; no content"}
    elif success == 302:
        responses["302"] = {
            "description": _DESCRIPTIONS[302],
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    else:
        responses[str(success)] = {**ok, "description": ok.get("description", "Success")}
    if path == "/oauth/qbo/callback":  # a consent started from the console goes back to its Overview
        responses["303"] = {
            "description": "Started from the console: back to its Overview with a notice of the outcome",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    if "202" in generated and success != 202:  # a bounded route's partial answer (its resolver describes it)
        responses["202"] = generated["202"]
    body_errors = {415} if "requestBody" in operation else set()
    for status in sorted({*errors, *body_errors, 400, 404}):
        responses[str(status)] = {"description": _DESCRIPTIONS[status], "content": _json(ERROR)}
    if security == SIGV4:
        responses["403"] = {"description": "Missing or invalid SigV4 signature", "content": _json(GATEWAY_ERROR)}
    operation["responses"] = responses
    params = [p for p in operation.get("parameters", []) if p["name"] not in {e["name"] for e in extra}]
    if extra or params:
        operation["parameters"] = params + extra
