"""The file drop API through the template's routes and the real handler: list, download (302 to a
presigned GET), confirm, custom layouts, the OpenAPI document; tenancy and credentials."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from ledgerbridge import files
from ledgerbridge.connectors import load_builtin
from ledgerbridge.state import exports
from ledgerbridge.state import tenants as tenant_store
from sandbox.servicetrade import SandboxServer, start
from sandbox.stack.apigw import proxy_event, route_matches
from sandbox.stack.functions import handler, invoke
from sandbox.stack.template import load
from tests.helpers import make_tenant
from tests.integration.test_exp_runs import WEEK, body, bucket, keys, run, tenant_for, weekly


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start() as server:
        yield server


@pytest.fixture
def ran(aws: Any, st: SandboxServer) -> dict[str, Any]:
    """acme-fire with a delivered invoice export and a labor export with an error file; other-co beside it."""
    tenant = tenant_for(st)
    invoices = run(tenant, "ar_invoices", st=st)
    labor = run(tenant, "labor_hours", st=st)
    make_tenant("other-co", connectors=[weekly()])
    return {
        "tenant": tenant,
        "invoices": invoices,
        "labor": labor,
        "cred": tenant_store.issue_credential("acme-fire", "files"),
        "other_cred": tenant_store.issue_credential("other-co", "files"),
    }


def call_api(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """tests.helpers.call_api, but with the response's multiValueHeaders too (Powertools' REST resolver
    answers with those, and a redirect's Location is one)."""
    route = next(r for r in load().api_routes() if r.method == method and route_matches(r.path, path) is not None)
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    event = proxy_event(
        method,
        path,
        route.path,
        path_parameters=route_matches(route.path, path),
        query=query,
        headers=headers,
        body=raw,
    )
    resp = invoke(route.function, event)
    merged = {k: v[-1] for k, v in (resp.get("multiValueHeaders") or {}).items()}
    merged.update(resp.get("headers") or {})
    try:
        parsed: Any = json.loads(resp.get("body") or "")
    except ValueError:
        parsed = resp.get("body")
    return resp["statusCode"], merged, parsed


def auth(cred: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {cred}"}


def location(headers: dict[str, str]) -> tuple[str, dict[str, list[str]]]:
    url = urlparse(headers["Location"])
    return unquote(url.path), parse_qs(url.query)


def test_list_shows_the_tenants_exports_with_manifests(ran: dict[str, Any]) -> None:
    status, headers, data = call_api("GET", "/tenants/acme-fire/exports", headers=auth(ran["cred"]))
    assert status == 200 and headers.get("Cache-Control") == "no-store"
    by_id = {m["export_id"]: m for m in data["exports"]}
    assert set(by_id) == {f"csv.ar_invoices.{WEEK}", f"csv.labor_hours.{WEEK}"}
    labor = by_id[f"csv.labor_hours.{WEEK}"]
    assert labor["rows"] == ran["labor"].rows > 0 and labor["sha256"] == ran["labor"].sha256
    assert labor["problem_count"] > 0 and labor["totals"] == ran["labor"].totals
    status, _, data = call_api(
        "GET", "/tenants/acme-fire/exports", query={"connection": "labor_hours"}, headers=auth(ran["cred"])
    )
    assert [m["connection"] for m in data["exports"]] == ["labor_hours"]


def test_download_is_a_short_lived_link_inside_the_tenant_prefix(ran: dict[str, Any]) -> None:
    manifest = ran["labor"]
    status, headers, data = call_api(
        "GET", f"/tenants/acme-fire/exports/{manifest.export_id}/download", headers=auth(ran["cred"])
    )
    assert status == 302
    path, query = location(headers)
    assert path == f"/{bucket()}/{manifest.key}" and manifest.key.startswith("acme-fire/")
    assert 0 < int(query["X-Amz-Expires"][0]) <= 900
    assert data["url"] == headers["Location"]
    assert "attachment" in query["response-content-disposition"][0]

    status, headers, _ = call_api(
        "GET",
        f"/tenants/acme-fire/exports/{manifest.export_id}/download",
        query={"part": "errors"},
        headers=auth(ran["cred"]),
    )
    path, query = location(headers)
    assert status == 302 and path == f"/{bucket()}/{manifest.error_key}"
    assert b"no_employee_number" in body(manifest.error_key)


def test_download_errors_part_of_an_export_without_problems_is_404(ran: dict[str, Any]) -> None:
    export_id = ran["invoices"].export_id
    status, _, data = call_api(
        "GET", f"/tenants/acme-fire/exports/{export_id}/download", query={"part": "errors"}, headers=auth(ran["cred"])
    )
    assert status == 404 and "no error file" in data["error"]["message"]


def test_bad_part_is_400(ran: dict[str, Any]) -> None:
    status, _, data = call_api(
        "GET",
        f"/tenants/acme-fire/exports/{ran['labor'].export_id}/download",
        query={"part": "everything"},
        headers=auth(ran["cred"]),
    )
    assert status == 400 and data["error"]["field"].endswith("part")


@pytest.mark.parametrize(
    ("path", "cred_key", "status"),
    [
        ("/tenants/acme-fire/exports", "other_cred", 401),  # another tenant's (valid) credential
        ("/tenants/acme-fire/exports", None, 401),  # no credential
        ("/tenants/nobody-here/exports", "cred", 404),  # unknown tenant
        (f"/tenants/other-co/exports/csv.labor_hours.{WEEK}/download", "other_cred", 404),  # acme's export id
        (f"/tenants/acme-fire/exports/csv.labor_hours.{WEEK}/confirm", "other_cred", 401),
    ],
)
def test_tenancy(ran: dict[str, Any], path: str, cred_key: str | None, status: int) -> None:
    method = "POST" if path.endswith("/confirm") else "GET"
    got, _, data = call_api(method, path, headers=auth(ran[cred_key]) if cred_key else {})
    assert got == status, data
    assert "Location" not in json.dumps(data)


def test_a_webhook_credential_cannot_read_files(ran: dict[str, Any]) -> None:
    hook = tenant_store.issue_credential("acme-fire", "webhook")
    status, _, _ = call_api("GET", "/tenants/acme-fire/exports", headers=auth(hook))
    assert status == 401


def test_a_manifest_pointing_outside_the_prefix_is_never_signed(ran: dict[str, Any]) -> None:
    forged = ran["labor"].model_copy(update={"key": "other-co/csv/labor_hours/x.csv"})
    exports.save(forged)
    status, headers, _ = call_api(
        "GET", f"/tenants/acme-fire/exports/{forged.export_id}/download", headers=auth(ran["cred"])
    )
    assert status == 404 and "Location" not in headers


def test_confirm_marks_invoices_processed(ran: dict[str, Any], st: SandboxServer) -> None:
    export_id = ran["invoices"].export_id
    status, _, data = call_api("POST", f"/tenants/acme-fire/exports/{export_id}/confirm", headers=auth(ran["cred"]))
    assert status == 200 and data["status"] == "confirmed" and data["confirmed_at"]
    ids = {i for _d, chunk in exports.delivered("acme-fire", export_id) for i in chunk}
    assert len(ids) == 5 and {st.state.invoices[int(i)]["status"] for i in ids} == {"processed"}
    puts = [r for r in st.requests if r.method == "PUT" and r.path.startswith("/api/invoice/")]
    assert len(puts) == 5
    again, _, data = call_api("POST", f"/tenants/acme-fire/exports/{export_id}/confirm", headers=auth(ran["cred"]))
    assert again == 200 and data["status"] == "confirmed"
    assert len([r for r in st.requests if r.method == "PUT" and r.path.startswith("/api/invoice/")]) == 5


def test_a_confirm_bigger_than_one_call_goes_on_over_several_marking_each_invoice_once(
    ran: dict[str, Any], st: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler("FilesFunction")
    monkeypatch.setattr(files, "CONFIRM_LIMIT", 2)  # 5 invoices: calls of 2, 2, 1
    export_id = ran["invoices"].export_id
    path = f"/tenants/acme-fire/exports/{export_id}/confirm"

    def puts() -> list[str]:
        done = [r for r in st.requests if r.method == "PUT" and r.path.startswith("/api/invoice/") and r.status < 300]
        return [r.path for r in done]

    answers = [call_api("POST", path, headers=auth(ran["cred"])) for _ in range(2)]
    assert [(s, d["status"], d["confirmed_records"], d["remaining"]) for s, _, d in answers] == [
        (202, "ready", 2, 3),
        (202, "ready", 4, 1),
    ]
    days = [day for day, _ids in exports.delivered("acme-fire", export_id)]
    assert exports.imported("acme-fire", "ar_invoices", days) == {}  # recorded as imported by the last call only
    # The platform refuses the last PUT past the client's own retries (4 attempts): the call answers 503.
    st.fail_next(4, status=503, path_prefix="/api/invoice/", method="PUT")
    status, _, data = call_api("POST", path, headers=auth(ran["cred"]))
    assert status == 503 and exports.load("acme-fire", export_id).confirmed_records == 4
    status, _, data = call_api("POST", path, headers=auth(ran["cred"]))
    assert (status, data["status"], data["confirmed_records"], data["remaining"]) == (200, "confirmed", 5, 0)

    ids = [i for _d, chunk in exports.delivered("acme-fire", export_id) for i in chunk]
    succeeded = puts()
    assert sorted(succeeded) == sorted(f"/api/invoice/{i}" for i in ids)  # each once: none twice, none lost
    assert {st.state.invoices[int(i)]["status"] for i in ids} == {"processed"}
    again, _, data = call_api("POST", path, headers=auth(ran["cred"]))
    assert again == 200 and data["remaining"] == 0 and puts() == succeeded


def test_confirm_a_held_export_is_400(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st, policy="hold_run")
    held = run(tenant, "labor_hours", st=st)
    cred = tenant_store.issue_credential("acme-fire", "files")
    status, _, data = call_api("POST", f"/tenants/acme-fire/exports/{held.export_id}/confirm", headers=auth(cred))
    assert status == 400 and "held" in data["error"]["message"]
    status, _, data = call_api("GET", f"/tenants/acme-fire/exports/{held.export_id}/download", headers=auth(cred))
    assert status == 404 and "held" in data["error"]["message"]


def test_unknown_export_is_404(ran: dict[str, Any]) -> None:
    status, _, _ = call_api(
        "GET", "/tenants/acme-fire/exports/csv.ar_invoices.1999-01/download", headers=auth(ran["cred"])
    )
    assert status == 404


# --- custom layouts -------------------------------------------------------------------------------------


def labor_layout(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = load_builtin("csv", "labor_hours").model_dump(mode="json")
    data.update(changes)
    return data


def test_bad_layout_is_400_naming_the_field_path(ran: dict[str, Any]) -> None:
    data = labor_layout()
    data["records"][0]["fields"][1]["width"] = 0
    status, _, got = call_api("PUT", "/tenants/acme-fire/layouts/payroll", body=data, headers=auth(ran["cred"]))
    assert status == 400
    assert got["error"]["field"] == "records[0].fields[1].width"
    assert "records[0].fields[1].width: must be > 0" in got["error"]["message"]

    data = labor_layout()
    data["records"][0]["fields"][0]["source"] = "labor.wrk_date"
    status, _, got = call_api("PUT", "/tenants/acme-fire/layouts/payroll", body=data, headers=auth(ran["cred"]))
    assert status == 400 and got["error"]["field"] == "records[0].fields[0].source"
    assert "wrk_date" in got["error"]["message"]

    status, _, got = call_api("PUT", "/tenants/acme-fire/layouts/payroll", body="[1, 2", headers=auth(ran["cred"]))
    assert status == 400 and got["error"]["field"] == "body"
    status, _, got = call_api(
        "PUT", "/tenants/acme-fire/layouts/bad name!", body=labor_layout(), headers=auth(ran["cred"])
    )
    assert status == 400 and got["error"]["field"] == "layout_name"


def test_saved_layout_is_used_by_the_connector(ran: dict[str, Any], st: SandboxServer) -> None:
    data = labor_layout(name="Payroll, semicolons", delimiter=";", header=False)
    status, _, got = call_api("PUT", "/tenants/acme-fire/layouts/payroll", body=data, headers=auth(ran["cred"]))
    assert status == 200 and got["connection"] == "labor_hours"
    tenant = ran["tenant"].model_copy(update={"connectors": [weekly(layouts={"labor_hours": "payroll"})]})
    tenant_store.save(tenant)
    manifest = run(tenant, "labor_hours", st=st)
    assert manifest.layout == "payroll" and manifest.key.endswith(f"labor_hours-{WEEK}.txt")
    text = body(manifest.key).decode("utf-8-sig")
    assert not text.startswith("work_date") and text.splitlines()[0].count(";") == 8
    assert manifest.key in keys()


def test_a_layout_for_another_connection_is_refused_at_run_time(ran: dict[str, Any], st: SandboxServer) -> None:
    data = load_builtin("csv", "ar_invoices").model_dump(mode="json")
    status, _, _ = call_api("PUT", "/tenants/acme-fire/layouts/inv", body=data, headers=auth(ran["cred"]))
    assert status == 200
    tenant = ran["tenant"].model_copy(update={"connectors": [weekly(layouts={"labor_hours": "inv"})]})
    from ledgerbridge.errors import InvalidInput

    with pytest.raises(InvalidInput, match="is for ar_invoices"):
        run(tenant, "labor_hours", st=st)


# --- the OpenAPI document -------------------------------------------------------------------------------


def test_openapi_is_served_from_the_package_or_404(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler("FilesFunction")
    module = sys.modules["lb_function_files"].resources
    real = module.files

    def files(package: str) -> Any:
        return tmp_path if package == "ledgerbridge" else real(package)

    monkeypatch.setattr(module, "files", files)
    status, _, _ = call_api("GET", "/openapi.json")
    assert status == 404
    (tmp_path / "openapi.json").write_text(json.dumps({"openapi": "3.1.0", "paths": {}}))
    status, headers, data = call_api("GET", "/openapi.json")
    assert status == 200 and data["openapi"] == "3.1.0"
    assert headers.get("Content-Type", "").startswith("application/json")


def test_the_console_confirms_a_big_export_over_several_presses(
    ran: dict[str, Any], st: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_console import sign_in

    monkeypatch.setattr(files, "CONFIRM_LIMIT", 3)  # 5 invoices: presses of 3, then 2
    export_id = ran["invoices"].export_id
    jar, csrf = sign_in("acme-fire")
    path = f"/console/exports/{export_id}/confirm"
    status, headers, _ = call_api("POST", path, body=f"csrf={csrf}", headers=jar)
    assert status == 303 and headers["Location"].endswith("/exports?notice=confirm-partial")
    assert exports.load("acme-fire", export_id).confirmed_records == 3
    _, _, page = call_api("GET", "/console/exports", query={"notice": "confirm-partial"}, headers=jar)
    assert "Confirmed in part" in page
    status, headers, _ = call_api("POST", path, body=f"csrf={csrf}", headers=jar)
    assert status == 303 and headers["Location"].endswith("/exports?notice=confirmed")
    manifest = exports.load("acme-fire", export_id)
    assert manifest.status == "confirmed" and manifest.confirmed_records == 5
    puts = [r.path for r in st.requests if r.method == "PUT" and r.path.startswith("/api/invoice/")]
    assert len(puts) == len(set(puts)) == 5  # each invoice marked once
