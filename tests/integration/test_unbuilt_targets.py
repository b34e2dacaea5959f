"""QuickBooks Desktop is not built yet: nothing is lost and nothing cycles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledgerbridge.state import synclog
from ledgerbridge.state import tenants as tenant_store
from sandbox.stack.functions import by_folder, invoke
from tests.helpers import call_api, make_tenant

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_qbd_jobs_are_logged_as_not_available_and_not_retried(aws: Any) -> None:
    make_tenant("summit-fire")
    event = json.loads((EVENTS / "sync_qbd.json").read_text())
    assert invoke(by_folder("sync_qbd"), event) == {"batchItemFailures": []}
    outcomes = {(e.target, e.outcome) for e in synclog.recent("summit-fire")}
    assert outcomes == {("qbd", "failed")}
    assert all("not available" in e.message for e in synclog.recent("summit-fire"))


def soap(operation: str, inner: str = "") -> str:
    return (
        '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{operation} xmlns="http://developer.intuit.com/">{inner}</{operation}></soap:Body></soap:Envelope>'
    )


def test_web_connector_authenticates_tenants_and_reports_nothing_to_do(aws: Any) -> None:
    make_tenant("summit-fire")
    credential = tenant_store.issue_credential("summit-fire", "qbwc")
    ok = soap("authenticate", f"<strUserName>summit-fire</strUserName><strPassword>{credential}</strPassword>")
    status, _, body = call_api("POST", "/qbwc/summit-fire", body=ok)
    assert status == 200 and "<string>none</string>" in body
    bad = soap("authenticate", "<strUserName>summit-fire</strUserName><strPassword>guess</strPassword>")
    assert "<string>nvu</string>" in call_api("POST", "/qbwc/summit-fire", body=bad)[2]
    assert "LedgerBridge" in call_api("POST", "/qbwc/summit-fire", body=soap("serverVersion"))[2]
    status, _, fault = call_api("POST", "/qbwc/summit-fire", body="<not-soap")
    assert status == 500 and "faultstring" in fault
    assert call_api("POST", "/qbwc/nobody", body=soap("serverVersion"))[0] == 404
