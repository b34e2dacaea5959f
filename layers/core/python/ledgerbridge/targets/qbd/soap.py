"""The QuickBooks Web Connector's SOAP 1.1 envelope: parse a call, shape an answer, publish the WSDL.

QBWC speaks SOAP 1.1, document/literal, namespace http://developer.intuit.com/, SOAPAction
"http://developer.intuit.com/<operation>" (QBWC Programmer's Guide; Intuit's WCWebService sample in
github.com/IntuitDeveloper/QBXML_SDK_Samples). Bodies come from the Internet, so they are parsed with
defusedxml (no entity expansion, no DTDs, no external references) after a size check.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

NS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_BODY_BYTES = 8 * 1024 * 1024  # a full receiveResponseXML of a 250-invoice round trip is ~1-2 MB
# operation -> (input parameters, result type); the WSDL below is generated from this table
OPERATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "serverVersion": ((), "string"),
    "clientVersion": (("strVersion",), "string"),
    "authenticate": (("strUserName", "strPassword"), "ArrayOfString"),
    "sendRequestXML": (
        ("ticket", "strHCPResponse", "strCompanyFileName", "qbXMLCountry", "qbXMLMajorVers", "qbXMLMinorVers"),
        "string",
    ),
    "receiveResponseXML": (("ticket", "response", "hresult", "message"), "int"),
    "connectionError": (("ticket", "hresult", "message"), "string"),
    "getLastError": (("ticket",), "string"),
    "closeConnection": (("ticket",), "string"),
}
INT_PARAMS = {"qbXMLMajorVers", "qbXMLMinorVers"}


class SoapFault(ValueError):
    pass


def parse(body: str) -> tuple[str, dict[str, str]]:
    """(operation, parameters) of a SOAP 1.1 request."""
    if len(body.encode()) > MAX_BODY_BYTES:
        raise SoapFault(f"SOAP request larger than {MAX_BODY_BYTES} bytes")
    try:
        root = fromstring(body)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise SoapFault(f"malformed SOAP envelope: {exc}") from None
    if root.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope":
        raise SoapFault("VersionMismatch: this service speaks SOAP 1.1")
    soap_body = root.find(f"{{{SOAP}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise SoapFault("SOAP envelope has no Body element")
    op = soap_body[0]
    if not op.tag.startswith(f"{{{NS}}}"):
        raise SoapFault(f"operation must be in the {NS} namespace")
    name = op.tag[len(NS) + 2 :]
    if name not in OPERATIONS:
        raise SoapFault(f"unknown operation {name!r}")
    params = {child.tag.split("}")[-1]: (child.text or "") for child in op}
    return name, params


def answer(operation: str, value: str | int | list[str]) -> str:
    """The SOAP response of one operation: a string, an int, or an ArrayOfString result."""
    strings = value if isinstance(value, list) else None
    inner = "".join(f"<string>{escape(s)}</string>" for s in strings) if strings is not None else escape(str(value))
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<{operation}Response xmlns="{NS}"><{operation}Result>{inner}</{operation}Result></{operation}Response>'
        "</soap:Body></soap:Envelope>"
    )


def fault(message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:Client</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )


def wsdl(location: str) -> str:
    """The service's WSDL (what QBWC's own QBWebConnectorSvc.wsdl describes), pointing at `location`."""
    types, messages, ports, bindings = [], [], [], []
    for op, (params, result) in OPERATIONS.items():
        fields = "".join(
            f'<s:element minOccurs="{1 if p in INT_PARAMS else 0}" maxOccurs="1" name="{p}" '
            f'type="s:{"int" if p in INT_PARAMS else "string"}"/>'
            for p in params
        )
        result_type = "tns:ArrayOfString" if result == "ArrayOfString" else f"s:{result}"
        min_occurs = 1 if result == "int" else 0
        types.append(
            f'<s:element name="{op}"><s:complexType><s:sequence>{fields}</s:sequence></s:complexType></s:element>'
            f'<s:element name="{op}Response"><s:complexType><s:sequence><s:element minOccurs="{min_occurs}" '
            f'maxOccurs="1" name="{op}Result" type="{result_type}"/></s:sequence></s:complexType></s:element>'
        )
        messages.append(
            f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message>'
            f'<wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" element="tns:{op}Response"/>'
            "</wsdl:message>"
        )
        ports.append(
            f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
            f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>'
        )
        bindings.append(
            f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}{op}" style="document"/>'
            '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/>'
            "</wsdl:output></wsdl:operation>"
        )
    array = (
        '<s:complexType name="ArrayOfString"><s:sequence><s:element minOccurs="0" maxOccurs="unbounded" '
        'name="string" nillable="true" type="s:string"/></s:sequence></s:complexType>'
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        f'xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NS}" targetNamespace="{NS}" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">'
        f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{NS}">{"".join(types)}{array}'
        f"</s:schema></wsdl:types>{''.join(messages)}"
        f'<wsdl:portType name="QBWebConnectorSvcSoap">{"".join(ports)}</wsdl:portType>'
        '<wsdl:binding name="QBWebConnectorSvcSoap" type="tns:QBWebConnectorSvcSoap">'
        '<soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>'
        f"{''.join(bindings)}</wsdl:binding>"
        '<wsdl:service name="QBWebConnectorSvc"><wsdl:port name="QBWebConnectorSvcSoap" '
        f'binding="tns:QBWebConnectorSvcSoap"><soap:address location="{escape(location)}"/></wsdl:port>'
        "</wsdl:service></wsdl:definitions>"
    )
