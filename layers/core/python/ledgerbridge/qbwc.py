"""The QuickBooks Web Connector's SOAP protocol (accounting-targets.md 2.1-2.2).

QBWC polls: serverVersion -> clientVersion -> authenticate -> [sendRequestXML -> receiveResponseXML]* ->
closeConnection. This release has no QuickBooks Desktop outbox yet (README, Status), so an authenticated
Web Connector is told there is nothing to do (`none`), and anyone else gets `nvu` (not a valid user).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from xml.sax.saxutils import escape

NS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SERVER_VERSION = "LedgerBridge 0.1.0"


class SoapFault(ValueError):
    pass


def parse(body: str) -> tuple[str, dict[str, str]]:
    """(operation, parameters) of a SOAP 1.1 request."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - see import note
    except ET.ParseError as exc:
        raise SoapFault(f"malformed SOAP envelope: {exc}") from None
    soap_body = root.find(f"{{{SOAP}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise SoapFault("SOAP envelope has no Body element")
    op = soap_body[0]
    if not op.tag.startswith(f"{{{NS}}}"):
        raise SoapFault(f"operation must be in the {NS} namespace")
    name = op.tag[len(NS) + 2 :]
    params = {child.tag.split("}")[-1]: (child.text or "") for child in op}
    return name, params


def _envelope(operation: str, inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<{operation}Response xmlns="{NS}">{inner}</{operation}Response>'
        "</soap:Body></soap:Envelope>"
    )


def _result(operation: str, value: str) -> str:
    return _envelope(operation, f"<{operation}Result>{escape(value)}</{operation}Result>")


def fault(message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:Client</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )


def respond(operation: str, params: dict[str, str], authenticate: Callable[[str, str], bool], ticket: str) -> str:
    """The SOAP response to one Web Connector call."""
    if operation == "serverVersion":
        return _result(operation, SERVER_VERSION)
    if operation == "clientVersion":
        return _result(operation, "")  # empty = any QBWC version may continue
    if operation == "authenticate":
        ok = authenticate(params.get("strUserName", ""), params.get("strPassword", ""))
        status = "none" if ok else "nvu"
        strings = "".join(f"<string>{escape(s)}</string>" for s in (ticket if ok else "", status))
        return _envelope(operation, f"<authenticateResult>{strings}</authenticateResult>")
    if operation == "sendRequestXML":
        return _result(operation, "")
    if operation == "receiveResponseXML":
        return _envelope(operation, "<receiveResponseXMLResult>100</receiveResponseXMLResult>")
    if operation == "connectionError":
        return _result(operation, "done")
    if operation == "getLastError":
        return _result(operation, "No QuickBooks Desktop work is queued for this company.")
    if operation == "closeConnection":
        return _result(operation, "OK")
    raise SoapFault(f"unknown operation {operation!r}")
