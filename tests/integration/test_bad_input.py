"""Hostile input answers 4xx, never 500: unmatchable paths, non-ASCII secrets in headers, pathological JSON,
absurd timestamps, bodies that are not UTF-8. And a real 500 logs its exception."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from werkzeug.test import Client

from ledgerbridge import webhook
from ledgerbridge.api import HttpError, json_body, make_resolver
from ledgerbridge.errors import InvalidInput
from ledgerbridge.observability import logger
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbo import webhook as qbo_webhook
from ledgerbridge.targets.qbo.client import parse_time
from ledgerbridge.targets.qbo.connect import _consume
from ledgerbridge.targets.qbo.tokens import AppCredentials, OAuthClient
from sandbox.stack.front import ApiFront
from sandbox.stack.functions import invoke
from tests.helpers import call_api, make_tenant


@pytest.fixture
def hook(aws: Any) -> str:
    make_tenant("acme-fire")
    return tenant_store.issue_credential("acme-fire", "webhook")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/webhooks/%F2%AE"),
        ("POST", "/qbwc/%00"),
        ("GET", "/tenants/%22/exports"),
        ("GET", "/tenants/%5C/exports"),
        ("GET", "/tenants/%23/exports"),
        ("GET", "/tenants/%3F/exports"),
        ("GET", "/tenants/%0A/exports"),
        ("GET", "/tenants/acme-fire/exports/%22/download"),
        ("PUT", "/tenants/acme-fire/layouts/%0A"),
    ],
)
def test_path_segments_the_router_cannot_match_are_404(hook: str, method: str, path: str) -> None:
    response = Client(ApiFront(invoke)).open(path, method=method, data="{}")
    assert response.status_code == 404, response.get_data()
    assert json.loads(response.get_data())["error"]["status"] == 404


def test_an_unexpected_error_logs_its_exception() -> None:
    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(capture)
    try:
        handler = make_resolver().exception_handler_manager.lookup_exception_handler(RuntimeError)
        assert handler is not None
        response = handler(RuntimeError("boom"))  # called outside any `except`, as Powertools may
    finally:
        logger.removeHandler(capture)
    assert response.status_code == 500
    assert any(r.exc_info and r.exc_info[0] is RuntimeError and "boom" in str(r.exc_info[1]) for r in records)


@pytest.mark.parametrize("presented", ["é", "sha256=é", "\u0000", "🙂" * 40])
def test_non_ascii_signatures_are_refused_not_crashed_on(presented: str) -> None:
    assert webhook.verify_signature("secret", b"{}", presented) is False
    assert qbo_webhook.verify_signature("verifier", b"{}", presented) is False


def test_a_non_ascii_oauth_state_is_a_400() -> None:
    oauth = OAuthClient(AppCredentials(client_id="c", client_secret="s"), discovery_url="http://127.0.0.1:9/")
    with pytest.raises(InvalidInput, match="state"):
        _consume("acme-fire.nonce.é", oauth)


def test_a_non_ascii_hook_token_is_a_401(hook: str) -> None:
    status, _, _ = call_api("POST", "/webhooks/acme-fire", body="{}", query={"token": "lbk_acme-fire_é_é"})
    assert status == 401


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        ("[" * 60_000 + "]" * 60_000, 400, "nested"),
        ('{"a": ' + "9" * 5_000 + "}", 400, "digits"),
        (b"\xff\xfe{}", 400, "UTF-8"),
        ("x" * 2_000_000, 413, "limit"),
    ],
)
def test_pathological_json_is_a_4xx(raw: str | bytes, status: int, words: str) -> None:
    with pytest.raises(HttpError) as caught:
        json_body(raw, 1_000_000)
    assert caught.value.status == status
    assert words in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        "[" * 60_000 + "]" * 60_000,
        '{"messageId": "m", "timestamp": ' + "9" * 5_000 + ', "data": []}',
        b'{"messageId": "m\xff", "timestamp": 1, "data": []}',
    ],
)
def test_pathological_webhook_bodies_are_400(hook: str, body: str | bytes) -> None:
    status, _, parsed = call_api("POST", "/webhooks/acme-fire", body=body, query={"token": hook})
    assert status == 400, parsed


@pytest.mark.parametrize("moment", [10**15, 1e300, float("inf"), -(10**15), 10**400])
def test_absurd_qbo_timestamps_are_not_dates(moment: Any) -> None:
    assert parse_time(moment) is None
    with pytest.raises(InvalidInput, match="lastUpdated"):
        qbo_webhook.parse(
            {
                "eventNotifications": [
                    {
                        "realmId": "1",
                        "dataChangeEvent": {"entities": [{"name": "Payment", "id": "1", "lastUpdated": moment}]},
                    }
                ]
            }
        )


@pytest.mark.parametrize("moment", [10**15, 10**400])
def test_absurd_platform_timestamps_are_400(hook: str, moment: int) -> None:
    event = {"action": "updated", "timestamp": moment, "entity": {"type": "invoice", "id": "1"}}
    body = '{"messageId": "m", "timestamp": %d, "data": [%s]}' % (moment, json.dumps(event))  # noqa: UP031
    status, _, parsed = call_api("POST", "/webhooks/acme-fire", body=body, query={"token": hook})
    assert status == 400, parsed


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Type": "multipart/form-data"}, '{"purpose": "files"}', 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "purpose=files", 415),
        ({"Content-Type": "application/json"}, b"\xf3\x92\x81\x88", 400),
    ],
)
def test_bodies_that_are_not_json_text_are_4xx(hook: str, headers: dict[str, str], body: Any, status: int) -> None:
    got, _, parsed = call_api("POST", "/admin/tenants/acme-fire/credentials", body=body, headers=headers)
    assert got == status, parsed


def test_a_dry_run_the_platform_refuses_is_not_a_500(hook: str) -> None:
    status, _, body = call_api("POST", "/admin/tenants/acme-fire/dry-run", body={"status": "N\u00f5\u00b8"})
    assert (status, body["error"]["field"]) == (400, "status")
