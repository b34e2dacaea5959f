"""The SOAP endpoint through API Gateway -> qbwc, and the .qwc through the files API."""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree as ET

from ledgerbridge import wiring
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd import soap
from sandbox.qbd.company import Company
from sandbox.qbd.webconnector import WebConnector, envelope, result
from tests.helpers import call_api
from tests.qbd.world import TENANT, make_world, time_passes

PATH = f"/qbwc/{TENANT}"


def post(body: str) -> tuple[int, str]:
    status, _, text = call_api("POST", PATH, body=body, headers={"Content-Type": "text/xml; charset=utf-8"})
    return status, str(text)


def authenticate(password: str) -> list[str]:
    return result("authenticate", post(envelope("authenticate", {"strUserName": TENANT, "strPassword": password}))[1])


def test_authenticate_answers_nvu_none_and_a_ticket_as_qbwc_expects(aws: Any) -> None:
    world = make_world()
    assert authenticate("lbk_guess")[1] == "nvu"
    ticket, status = authenticate(world.password)
    assert len(ticket) == 36 and status == ""  # payments are pulled every session, so there is work
    world.enqueue(world.platform.add_invoice(1))
    assert authenticate(world.password)[1] == "busy"  # the session above is still live
    time_passes()
    ticket, status = authenticate(world.password)
    assert len(ticket) == 36 and status == ""


def test_a_tenant_without_payments_or_work_is_told_none(aws: Any) -> None:
    world = make_world()
    tenant = world.tenant.model_copy(update={"integrations": [world.tenant.integrations[0].model_copy(
        update={"entities": ["invoice"]})]})  # fmt: skip
    tenant_store.save(tenant)
    assert authenticate(world.password) == ["", "none"]


def test_an_expired_or_unknown_ticket_is_refused_on_every_call(aws: Any) -> None:
    make_world()
    params = {"ticket": "0f0f0f0f-0000-0000-0000-000000000000", "strHCPResponse": "", "strCompanyFileName": "",
              "qbXMLCountry": "US", "qbXMLMajorVers": 13, "qbXMLMinorVers": 0}  # fmt: skip
    assert result("sendRequestXML", post(envelope("sendRequestXML", params))[1]) == [""]
    params = {"ticket": params["ticket"], "response": "<QBXML/>", "hresult": "", "message": ""}
    assert result("receiveResponseXML", post(envelope("receiveResponseXML", params))[1]) == ["-1"]
    last = result("getLastError", post(envelope("getLastError", {"ticket": params["ticket"]}))[1])[0]
    assert "expired" in last


def test_the_endpoint_refuses_hostile_or_oversized_xml_with_a_soap_fault(aws: Any) -> None:
    make_world()
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>'
    for body in ("<not-soap", bomb, "<x>" + "a" * (soap.MAX_BODY_BYTES + 1) + "</x>"):
        status, text = post(body)
        assert status == 500 and "<faultstring>" in text
    soap12 = '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
    assert "VersionMismatch" in post(soap12)[1]
    assert call_api("POST", "/qbwc/nobody", body=envelope("serverVersion", {}))[0] == 404


def test_the_wsdl_describes_every_operation_with_its_soap_action(aws: Any) -> None:
    make_world()
    status, _, text = call_api("GET", PATH, query={"wsdl": ""})
    assert status == 200
    root = ET.fromstring(text)
    wsdl = "{http://schemas.xmlsoap.org/wsdl/}"
    operations = {op.get("name") for op in root.iter(f"{wsdl}operation")}
    assert operations == set(soap.OPERATIONS)
    actions = {el.get("soapAction") for el in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {f"http://developer.intuit.com/{op}" for op in soap.OPERATIONS}


def test_a_company_file_too_old_for_qbxml_12_gets_a_readable_error(aws: Any) -> None:
    world = make_world()
    world.company = Company(versions=("8.0", "10.0", "11.0"))
    world.enqueue(world.platform.add_invoice(1))
    log = world.web_connector().run_session()
    assert "qbXML 12.0 or later" in log.last_error and log.closed.startswith("OK")
    assert world.company.invoices == {}


def test_a_company_file_that_will_not_open_ends_with_connection_error(aws: Any) -> None:
    world = make_world()
    world.company.can_open = False
    world.enqueue(world.platform.add_invoice(1))
    log = world.web_connector().run_session()
    assert log.calls[-1] == "connectionError" and world.platform.statuses["1"] == "pending_accounting"
    world.company.can_open = True
    assert world.web_connector().run_session().closed.startswith("OK: 1 sent")


def test_a_whole_session_runs_through_api_gateway_and_the_handler(aws: Any, monkeypatch: Any) -> None:
    world = make_world()
    world.enqueue(*(world.platform.add_invoice(n) for n in range(1, 4)))
    monkeypatch.setattr(wiring, "platform_for", lambda tenant: world.platform)
    log = WebConnector(lambda action, body: post(body), world.company, TENANT, world.password).run_session()
    assert log.closed == "OK: 3 sent to QuickBooks, 0 failed, 0 left for the next run"
    assert set(world.platform.statuses.values()) == {"processed"} and len(world.company.invoices) == 3


def test_the_customer_downloads_the_qwc_through_the_files_api(aws: Any) -> None:
    make_world()
    credential = tenant_store.issue_credential(TENANT, "files")
    status, headers, body = call_api(
        "GET",
        f"/tenants/{TENANT}/targets/qbd/qwc",
        headers={"Authorization": f"Bearer {credential}", "Host": "api.example.com"},
    )
    assert status == 200 and 'filename="ledgerbridge-summit-fire.qwc"' in headers["Content-Disposition"]
    root = ET.fromstring(body)
    assert root.findtext("AppURL") == f"https://api.example.com/local/qbwc/{TENANT}"
    assert root.findtext("UserName") == TENANT and root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15" and root.findtext("IsReadOnly") == "false"
    again = ET.fromstring(call_api("GET", f"/tenants/{TENANT}/targets/qbd/qwc",
                                   headers={"Authorization": f"Bearer {credential}"})[2])  # fmt: skip
    assert again.findtext("OwnerID") == root.findtext("OwnerID") and again.findtext("FileID") == root.findtext("FileID")
    url = f"/tenants/{TENANT}/targets/qbd/qwc"
    assert call_api("GET", url, headers={"Authorization": "Bearer lbk_x_y_z"})[0] == 401
    bearer = {"Authorization": f"Bearer {credential}"}
    assert call_api("GET", f"/tenants/{TENANT}/targets/qbo/qwc", headers=bearer)[0] == 404  # a target without it
    assert call_api("GET", f"/tenants/{TENANT}/targets/nobody/qwc", headers=bearer)[0] == 404
