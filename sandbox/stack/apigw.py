"""API Gateway REST (v1) proxy events, shaped as API Gateway sends them to a Lambda proxy integration."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from typing import Any


def route_matches(template_path: str, path: str) -> dict[str, str] | None:
    """Match /tenants/{tenant_id}/x against /tenants/acme/x -> {"tenant_id": "acme"}."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template_path)) + "$"
    m = re.match(pattern, path)
    return m.groupdict() if m else None


def proxy_event(
    method: str,
    path: str,
    resource: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    iam_user_arn: str | None = None,
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else (body or b"")
    try:
        text: str | None = raw.decode("utf-8") if raw else None
        b64 = False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(raw).decode(), True
    hdrs = dict(headers or {})
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": hdrs.get("Host", "localhost"),
            "httpMethod": method.upper(),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": hdrs.get("User-Agent", ""),
                "userArn": iam_user_arn,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": b64,
    }
