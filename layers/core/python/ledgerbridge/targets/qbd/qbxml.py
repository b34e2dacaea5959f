"""qbXML requests and responses (Intuit QuickBooks Desktop SDK, qbXML 12.0+).

Requests are built element by element in the order Intuit's schema defines them (qbxmlops120.xsd /
qbxml120.xsd in the QuickBooks SDK): QuickBooks rejects a misordered request with HRESULT 0x80040400, and
the Web Connector does not check. Text goes through ElementTree, so `&`, `<` and `>` are escaped; money is
Decimal with two places (AMTTYPE), quantities and rates at most five (QUANTYPE, PRICETYPE). Every request
carries a requestID so its response can be matched back (max 50 characters; statusCode 1060 otherwise).

Version: the session picks the newest of VERSIONS that the company file lists in the HostQuery response
(SupportedQBXMLVersion); every request here is valid from qbXML 12.0 (QuickBooks 2013) on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from defusedxml.ElementTree import fromstring

VERSIONS = ("13.0", "12.0")  # newest first; all requests below are valid in each
CENT = Decimal("0.01")
FIVE_PLACES = Decimal("0.00001")
REQUEST_ID_MAX = 50
INVOICE_RET_FIELDS = ("TxnID", "EditSequence", "RefNumber", "ExternalGUID", "CustomerRef", "Subtotal")
# What the console's reconciliation compares (InvoiceRet, qbXML 12.0; Memo carries QuickBooks' "VOID:" mark).
LEDGER_RET_FIELDS = (
    "TxnID", "EditSequence", "TxnDate", "RefNumber", "CustomerRef", "Subtotal", "SalesTaxTotal",
    "BalanceRemaining", "IsPaid", "Memo",
)  # fmt: skip


def money(value: Decimal | str) -> str:
    return format(Decimal(value).quantize(CENT, ROUND_HALF_UP), "f")


def decimal5(value: Decimal | str) -> str:
    text = format(Decimal(value).quantize(FIVE_PLACES, ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Request:
    request_id: str
    element: ET.Element

    @property
    def kind(self) -> str:
        return self.element.tag  # e.g. "InvoiceAddRq"


def document(version: str, requests: Iterable[Request], on_error: str = "continueOnError") -> str:
    """One qbXML request document: many requests in one QBXMLMsgsRq (one Web Connector round trip)."""
    root = ET.Element("QBXML")
    msgs = ET.SubElement(root, "QBXMLMsgsRq", onError=on_error)
    msgs.extend(r.element for r in requests)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?>{body}'


# ---------------------------------------------------------------------------------------------- builders
def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    if value:
        ET.SubElement(parent, tag).text = value


def _ref(parent: ET.Element, tag: str, full_name: str | None = None, list_id: str | None = None) -> None:
    if not (full_name or list_id):
        return
    ref = ET.SubElement(parent, tag)
    _text(ref, "ListID", list_id)
    _text(ref, "FullName", None if list_id else full_name)


def _address(parent: ET.Element, tag: str, address: Mapping[str, str] | None) -> None:
    if not address:
        return
    node = ET.SubElement(parent, tag)
    for name in ("Addr1", "City", "State", "PostalCode", "Country"):  # AddressData order
        _text(node, name, address.get(name))


def _rq(kind: str, request_id: str, **attrs: str) -> tuple[Request, ET.Element]:
    if len(request_id) > REQUEST_ID_MAX:
        raise ValueError(f"requestID longer than {REQUEST_ID_MAX} characters")
    rq = ET.Element(f"{kind}Rq", {"requestID": request_id, **attrs})
    return Request(request_id, rq), rq


def list_query(kind: str, request_id: str, full_names: Iterable[str]) -> Request:
    """CustomerQuery / ItemServiceQuery by FullName (several names in one request)."""
    request, rq = _rq(f"{kind}Query", request_id)
    for name in full_names:
        _text(rq, "FullName", name)
    for name in ("ListID", "EditSequence", "FullName"):
        _text(rq, "IncludeRetElement", name)
    return request


def customer_add(request_id: str, customer: Mapping[str, Any]) -> Request:
    """CustomerAdd; a `parent` makes it a job (sub-customer) of that customer."""
    request, rq = _rq("CustomerAdd", request_id)
    add = ET.SubElement(rq, "CustomerAdd")
    _text(add, "Name", customer["name"])
    _ref(add, "ParentRef", customer.get("parent"))
    _text(add, "CompanyName", customer.get("company_name"))
    _address(add, "BillAddress", customer.get("bill_address"))
    _address(add, "ShipAddress", customer.get("ship_address"))
    _text(add, "Phone", customer.get("phone"))  # CommInfo: Phone ... Email
    _text(add, "Email", customer.get("email"))
    return request


def item_service_add(request_id: str, name: str, income_account: str) -> Request:
    request, rq = _rq("ItemServiceAdd", request_id)
    add = ET.SubElement(rq, "ItemServiceAdd")
    _text(add, "Name", name)
    sales = ET.SubElement(add, "SalesOrPurchase")
    _ref(sales, "AccountRef", income_account)
    return request


def invoice_query(request_id: str, *, ref_numbers: Iterable[str] = (), txn_ids: Iterable[str] = ()) -> Request:
    """InvoiceQuery by RefNumber (or TxnID): only the fields a lookup needs come back."""
    request, rq = _rq("InvoiceQuery", request_id)
    for txn_id in txn_ids:
        _text(rq, "TxnID", txn_id)
    for number in ref_numbers:
        _text(rq, "RefNumber", number)
    for name in INVOICE_RET_FIELDS:
        _text(rq, "IncludeRetElement", name)
    return request


def invoice_period_query(
    request_id: str, first: str, last: str, *, iterator_id: str = "", max_returned: int = 200
) -> Request:
    """InvoiceQuery of every invoice dated first..last (YYYY-MM-DD), paged with an iterator, without lines."""
    request, window = _paged("InvoiceQuery", request_id, iterator_id, max_returned, "TxnDateRangeFilter")
    _text(window, "FromTxnDate", first)
    _text(window, "ToTxnDate", last)
    rq = request.element
    for name in LEDGER_RET_FIELDS:
        _text(rq, "IncludeRetElement", name)
    return request


def _invoice_header(node: ET.Element, invoice: Mapping[str, Any], *, adding: bool) -> None:
    _ref(node, "CustomerRef", invoice["customer"])
    _ref(node, "ClassRef", invoice.get("class"))
    _text(node, "TxnDate", invoice.get("txn_date"))
    _text(node, "RefNumber", invoice.get("ref_number"))
    _address(node, "BillAddress", invoice.get("bill_address"))
    _address(node, "ShipAddress", invoice.get("ship_address"))
    _text(node, "PONumber", invoice.get("po_number"))
    _ref(node, "TermsRef", invoice.get("terms"))
    _text(node, "DueDate", invoice.get("due_date"))
    _ref(node, "ItemSalesTaxRef", invoice.get("sales_tax_item"))
    _text(node, "Memo", invoice.get("memo"))
    if adding:
        _text(node, "ExternalGUID", invoice.get("external_guid"))


def _line(node: ET.Element, tag: str, line: Mapping[str, Any], *, adding: bool) -> None:
    out = ET.SubElement(node, tag)
    if not adding:
        _text(out, "TxnLineID", "-1")  # -1 = a new line; lines left out of a Mod are removed
    _ref(out, "ItemRef", line["item"])
    _text(out, "Desc", line.get("desc"))
    _text(out, "Quantity", decimal5(line["quantity"]))
    if line.get("rate") is not None:
        _text(out, "Rate", decimal5(line["rate"]))
    _ref(out, "ClassRef", line.get("class"))
    _text(out, "Amount", money(line["amount"]))
    _text(out, "ServiceDate", line.get("service_date"))
    _ref(out, "SalesTaxCodeRef", line.get("tax_code"))


def invoice_add(request_id: str, invoice: Mapping[str, Any]) -> Request:
    request, rq = _rq("InvoiceAdd", request_id)
    add = ET.SubElement(rq, "InvoiceAdd")
    _invoice_header(add, invoice, adding=True)
    for line in invoice["lines"]:
        _line(add, "InvoiceLineAdd", line, adding=True)
    for name in INVOICE_RET_FIELDS:
        _text(rq, "IncludeRetElement", name)
    return request


def invoice_mod(request_id: str, txn_id: str, edit_sequence: str, invoice: Mapping[str, Any]) -> Request:
    """InvoiceMod replacing every line (TxnCoreMod first: TxnID, EditSequence)."""
    request, rq = _rq("InvoiceMod", request_id)
    mod = ET.SubElement(rq, "InvoiceMod")
    _text(mod, "TxnID", txn_id)
    _text(mod, "EditSequence", edit_sequence)
    _invoice_header(mod, invoice, adding=False)
    for line in invoice["lines"]:
        _line(mod, "InvoiceLineMod", line, adding=False)
    for name in INVOICE_RET_FIELDS:
        _text(rq, "IncludeRetElement", name)
    return request


def receive_payment_query(
    request_id: str, from_modified: str, *, iterator_id: str = "", max_returned: int = 100
) -> Request:
    """ReceivePaymentQuery of payments modified since the cursor, paged with an iterator."""
    request, window = _paged("ReceivePaymentQuery", request_id, iterator_id, max_returned, "ModifiedDateRangeFilter")
    _text(window, "FromModifiedDate", from_modified)
    return request


def _paged(kind: str, request_id: str, iterator_id: str, max_returned: int, window: str) -> tuple[Request, ET.Element]:
    """A query that starts (or continues) an iterator, with its date window element (the caller fills it)."""
    attrs = {"iterator": "Continue", "iteratorID": iterator_id} if iterator_id else {"iterator": "Start"}
    request, rq = _rq(kind, request_id, **attrs)
    _text(rq, "MaxReturned", str(max_returned))
    return request, ET.SubElement(rq, window)


def txn_deleted_query(request_id: str, from_deleted: str) -> Request:
    request, rq = _rq("TxnDeletedQuery", request_id)
    _text(rq, "TxnDelType", "ReceivePayment")
    window = ET.SubElement(rq, "DeletedDateRangeFilter")
    _text(window, "FromDeletedDate", from_deleted)
    return request


# ---------------------------------------------------------------------------------------------- responses
@dataclass(frozen=True)
class Reply:
    """One ...Rs of a response document."""

    request_id: str
    kind: str  # "InvoiceAddRs"
    status_code: int
    severity: str
    message: str
    rets: tuple[dict[str, Any], ...] = ()
    iterator_id: str = ""
    remaining: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def to_data(node: ET.Element) -> Any:
    """An element as plain data: text for a leaf, else a dict (a repeated child becomes a list)."""
    if len(node) == 0:
        return node.text or ""
    out: dict[str, Any] = {}
    for child in node:
        value = to_data(child)
        if child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def parse_response(text: str) -> list[Reply]:
    """The replies of a qbXML response document (parsed with defusedxml: no entities, no DTDs)."""
    root = fromstring(text)
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise ValueError("qbXML response has no QBXMLMsgsRs")
    replies = []
    for rs in msgs:
        rets = tuple(to_data(child) for child in rs if child.tag.endswith("Ret"))
        replies.append(
            Reply(
                request_id=rs.get("requestID", ""),
                kind=rs.tag,
                status_code=int(rs.get("statusCode", "0")),
                severity=rs.get("statusSeverity", ""),
                message=rs.get("statusMessage", ""),
                rets=rets,
                iterator_id=rs.get("iteratorID", ""),
                remaining=int(rs.get("iteratorRemainingCount", "0") or 0),
            )
        )
    return replies


def supported_versions(hcp_response: str) -> list[str]:
    """SupportedQBXMLVersion values of the HostQuery response QBWC passes on the first sendRequestXML."""
    if not hcp_response.strip():
        return []
    root = fromstring(hcp_response)
    return [v.text or "" for v in root.iter("SupportedQBXMLVersion")]


def pick_version(hcp_response: str) -> str | None:
    """The newest version both sides speak; None when the company file is too old for this service."""
    offered = set(supported_versions(hcp_response))
    return next((v for v in VERSIONS if v in offered), None)
