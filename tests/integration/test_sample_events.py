"""Every function has a realistic sample event in events/ (for `sam local invoke` too), and its handler
answers it correctly against moto built from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.state import exports, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd.settings import QbdSettings
from sandbox.stack.functions import invoke
from sandbox.stack.template import load
from tests.helpers import drain, make_tenant

EVENTS = Path(__file__).resolve().parents[2] / "events"
TENANT = "summit-fire"


def _event(folder: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{folder}.json").read_text())


def _with_query(event: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    event["queryStringParameters"] = {**(event.get("queryStringParameters") or {}), key: value}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
    return event


def check_webhook(stack: Any) -> None:
    token = tenant_store.issue_credential(TENANT, "webhook")
    event = _with_query(_event("webhook"), "token", token)
    body = json.loads(event["body"])
    body["timestamp"] = str(int(__import__("time").time()))  # inside the replay window
    event["body"] = json.dumps(body)
    response = invoke("WebhookFunction", event)
    assert response["statusCode"] == 202, response
    assert len(drain(stack.queue_url("QboSyncQueue"))) == 1


def check_admin(stack: Any) -> None:
    tenant_store.state().delete_item(Key={"pk": f"TENANT#{TENANT}", "sk": "CONFIG"})
    response = invoke("AdminFunction", _event("admin"))
    assert response["statusCode"] == 201, response
    assert tenant_store.load(TENANT).name == "Summit Fire & Mechanical"


def check_qbwc(stack: Any) -> None:
    make_tenant(TENANT, integrations=[QbdSettings(entities=["invoice"])])
    credential = tenant_store.issue_credential(TENANT, "connector")
    event = _event("qbwc")
    event["body"] = event["body"].replace("lbk_summit-fire_REPLACE_WITH_QBWC_CREDENTIAL", credential)
    response = invoke("QbwcFunction", event)
    assert response["statusCode"] == 200 and "<string>none</string>" in response["body"]  # nothing queued


def check_sync_qbd(stack: Any) -> None:  # no platform credentials: a permanent failure, recorded, not retried
    assert invoke("SyncQbdFunction", _event("sync_qbd")) == {"batchItemFailures": []}
    entries = synclog.recent(TENANT)
    assert [e.outcome for e in entries] == ["failed"] and "no field-service credentials" in entries[0].message


def check_unbuilt(function: str) -> Callable[[Any], None]:
    def check(stack: Any) -> None:
        assert invoke(function, _event(load().code_dir(function).name)) == {"batchItemFailures": []}
        assert [e.outcome for e in synclog.recent(TENANT)] == ["failed"]

    return check


def check_export_dispatch(stack: Any) -> None:
    result = invoke("ExportDispatchFunction", _event("export_dispatch"))
    assert isinstance(result, dict) and result["jobs"] >= 0


def check_files(stack: Any) -> None:
    credential = tenant_store.issue_credential(TENANT, "files")
    event = _event("files")
    event["headers"] = {**(event.get("headers") or {}), "Authorization": f"Bearer {credential}"}
    response = invoke("FilesFunction", event)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["exports"] == [m.model_dump(mode="json") for m in exports.list_for(TENANT)]


def check_connect(stack: Any) -> None:
    make_tenant("acme-fire")
    credential = tenant_store.issue_credential("acme-fire", "files")
    event = _event("connect_status")
    event["headers"] = {**event["headers"], "Authorization": f"Bearer {credential}"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    response = invoke("ConnectFunction", event)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["status"] == "disconnected"


def check_sync_qbo(stack: Any) -> None:
    make_tenant("acme-fire")  # no platform credentials: a permanent failure, recorded, not retried
    assert invoke("SyncQboFunction", _event("sync_qbo")) == {"batchItemFailures": []}
    entries = synclog.recent("acme-fire")
    assert [e.outcome for e in entries] == ["failed"] and "no field-service credentials" in entries[0].message


def check_sync_dispatch(stack: Any) -> None:
    result = invoke("SyncDispatchFunction", _event("sync_dispatch"))
    assert isinstance(result, dict)


def check_sweep(stack: Any) -> None:
    # summit-fire has no platform credentials: its sweep is reported as failed, the run goes on.
    result = invoke("SweepFunction", _event("sweep"))
    assert result["tenants_swept"] == 1 and result["tenants_failed"] == 1 and result["recovered"] == 0


def check_export(stack: Any) -> None:
    # summit-fire has no sage300cre connector: the run fails permanently with a manifest saying why.
    assert invoke("ExportFunction", _event("export")) == {"batchItemFailures": []}
    manifest = exports.list_for(TENANT)[0]
    assert manifest.status == "failed" and manifest.message


def check_console(stack: Any) -> None:
    from ledgerbridge.console import sessions

    synclog.write(synclog.LogEntry(TENANT, "qbo", "invoice", "1001", "failed", "refused. What to fix: map it"))
    session = sessions.redeem_link(sessions.issue_link(TENANT))
    assert session is not None
    event = _event("console")
    event["headers"] = {**event["headers"], "Cookie": f"lb_console={session.cookie_value}"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    response = invoke("ConsoleFunction", event)
    assert response["statusCode"] == 200, response
    assert "map it" in response["body"] and 'name="entry"' in response["body"]


CHECKS: dict[str, Callable[[Any], None]] = {
    "ConsoleFunction": check_console,
    "ConnectFunction": check_connect,
    "SyncQboFunction": check_sync_qbo,
    "SyncDispatchFunction": check_sync_dispatch,
    "SweepFunction": check_sweep,
    "ExportFunction": check_export,
    "WebhookFunction": check_webhook,
    "AdminFunction": check_admin,
    "QbwcFunction": check_qbwc,
    "SyncQbdFunction": check_sync_qbd,
    "SyncIntacctFunction": check_unbuilt("SyncIntacctFunction"),
    "ExportDispatchFunction": check_export_dispatch,
    "FilesFunction": check_files,
}


def test_every_function_has_a_handler_and_a_sample_event() -> None:
    t = load()
    assert len(t.functions) >= 10
    for function in t.functions:
        folder = t.code_dir(function)
        assert (folder / "app.py").is_file(), folder
        assert (EVENTS / f"{folder.name}.json").is_file(), f"no sample event for {folder.name}"


@pytest.mark.parametrize("function", sorted(CHECKS))
def test_handler_answers_its_sample_event(aws: Any, function: str) -> None:
    make_tenant(TENANT)
    CHECKS[function](aws)
