"""What every HTTP function shares: one error shape, the mapping of domain errors to status codes, and
the tenant-credential check. Handlers stay thin: parse, call one domain function, shape the response.

Error body, always: {"error": {"status": 400, "message": "...", "field": "data.0.entity.id"}}.
No traceback or internal detail ever reaches a response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ValidationError

from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.observability import logger
from ledgerbridge.state import tenants as tenant_store

MAX_INT_DIGITS = 40


class HttpError(Exception):
    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str = "") -> Response[str]:
    body: dict[str, Any] = {"status": status, "message": message}
    if field:
        body["field"] = field
    return Response(status_code=status, content_type="application/json", body=json.dumps({"error": body}))


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def validation_message(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors(include_url=False)[0]
    field = _loc(first.get("loc", ()))
    return f"{field or 'body'}: {first.get('msg', 'invalid')}", field


class JsonResolver(APIGatewayRestResolver):
    """Powertools' resolver for a JSON API. Powertools parses form bodies for routes with a body model and
    crashes with a bare ValueError on a multipart body without a boundary; this API takes no forms, so a form
    content type is relabelled as one Powertools refuses, which is answered 415 below."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        headers = dict(event.get("headers") or {})
        for name, value in headers.items():
            if name.lower() == "content-type" and str(value).lower().startswith(_FORMS):
                headers[name] = "application/x-form-not-accepted"
                event = {**event, "headers": headers, "multiValueHeaders": None}
        return super().resolve(event, context)


_FORMS = ("multipart/", "application/x-www-form-urlencoded")


def make_resolver() -> APIGatewayRestResolver:
    app = JsonResolver(enable_validation=True)

    @app.exception_handler(HttpError)
    def _http(exc: HttpError) -> Response[str]:
        return error_response(exc.status, exc.message, exc.field)

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[str]:
        # A path no route matches (e.g. a segment API Gateway decoded to a quote or a newline). Without this,
        # the catch-all below would take Powertools' not-found signal for a crash.
        return error_response(404, "no such resource")

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "the body must be JSON (Content-Type: application/json)", "content-type")

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        return error_response(400, f"body is not UTF-8 (byte {exc.start})", "body")

    @app.exception_handler(NotFound)
    def _not_found(exc: NotFound) -> Response[str]:
        return error_response(404, str(exc))

    @app.exception_handler(InvalidInput)
    def _invalid(exc: InvalidInput) -> Response[str]:
        return error_response(400, str(exc), exc.field)

    @app.exception_handler(ValidationError)
    def _pydantic(exc: ValidationError) -> Response[str]:
        message, field = validation_message(exc)
        return error_response(400, message, field)

    @app.exception_handler(RequestValidationError)
    def _request(exc: RequestValidationError) -> Response[str]:
        # Powertools answers 422; the product's contract is 400 naming the field.
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [p for p in first.get("loc", ()) if p != "body"]
        field = _loc(loc)
        return error_response(400, f"{field or 'body'}: {first.get('msg', 'invalid request')}", field)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        # exc_info from the exception itself: Powertools may call handlers outside the `except` block.
        logger.error("unhandled error", exc_info=exc)
        return error_response(500, "internal error; the request was not processed")

    return app


def bearer(headers: dict[str, str] | Any) -> str:
    value = str(headers.get("authorization") or headers.get("Authorization") or "")
    return value[7:].strip() if value[:7].lower() == "bearer " else ""


def require_tenant(tenant_id: str, presented: str, scope: tenant_store.Scope) -> None:
    """404 for an unknown tenant, 401 for a missing, foreign, expired or revoked API credential, 403 for one
    without the scope the route needs."""
    tenant_store.load(tenant_id)
    credential = tenant_store.find_credential(tenant_id, presented, "files") if presented else None
    if credential is None:
        raise HttpError(401, "missing or invalid credential for this tenant")
    if scope not in credential.scopes:
        raise HttpError(403, f"this credential does not have the {scope!r} scope")


def raw_body(event: Any) -> bytes:
    """The request body exactly as sent (API Gateway base64-encodes bodies that are not UTF-8 text)."""
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8", "surrogatepass")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text)} digits; at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def json_body(raw: str | bytes | None, max_bytes: int) -> Any:
    """Size-check then parse a raw body: 413 before any parsing, 400 naming the position of bad JSON, and
    400 for what would otherwise crash the parser: invalid UTF-8, nesting past the recursion limit, integers
    too long for int() (Python refuses over 4,300 digits; nothing LedgerBridge reads needs over 40)."""
    data = raw if isinstance(raw, bytes) else (raw or "").encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise HttpError(413, f"body is {len(data)} bytes; the limit is {max_bytes}")
    if not data.strip():
        raise HttpError(400, "body is empty; a JSON object is required", "body")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"body is not UTF-8 (byte {exc.start})", "body") from None
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise HttpError(400, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", "body") from None
    except RecursionError:
        raise HttpError(400, "body is nested too deeply", "body") from None
    except ValueError as exc:
        raise HttpError(400, f"body holds {exc}", "body") from None
