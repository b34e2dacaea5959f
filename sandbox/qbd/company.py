"""A QuickBooks Desktop company file, answering qbXML request documents as QuickBooks does.

Behaviour modelled (Intuit qbXML SDK reference and status codes; QBWC Programmer's Guide):
- names unique per list family: a customer name already used by a customer, vendor, employee or other name
  -> 3100; lengths over the schema's maximum -> 3070; a reference to a missing list entry -> 3140;
- every list entry and transaction has an EditSequence; a Mod with a stale one -> 3200;
- RefNumber is not unique: QuickBooks lets the SDK add a second invoice with the same number (the UI only
  warns), which is why a sender must look before it adds;
- a record locked by a user (open in a QuickBooks window) -> 3170 on Mod, for as many tries as asked;
- onError: continueOnError answers every request; stopOnError answers 3231 for the ones after an error;
- queries: FullName / RefNumber / TxnID lists (1 = no match), iterators (iteratorID,
  iteratorRemainingCount) for ReceivePaymentQuery and InvoiceQuery, TxnDateRangeFilter on InvoiceQuery,
  IncludeRetElement, TxnDeletedQuery;
- a voided invoice keeps its number with its amounts zeroed and "VOID:" at the start of its memo;
- requestID over 50 characters -> 1060; an unknown request -> the whole document fails with HRESULT
  0x80040400, as does a document that is not well-formed qbXML.
"""

from __future__ import annotations

import itertools
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from defusedxml.ElementTree import fromstring

PARSE_ERROR = "0x80040400"
SUPPORTED = ("1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "10.0", "11.0", "12.0", "13.0")
LENGTHS = {"Name": 41, "CompanyName": 41, "RefNumber": 11, "PONumber": 25, "Addr1": 41, "Phone": 21, "Memo": 4095}
ITEM_NAME_MAX = 31
Answer = tuple[list[dict[str, Any]], tuple[int, str]]  # (records returned, (statusCode, statusMessage))


class QbXmlError(Exception):
    """The whole document failed (QBWC passes the HRESULT to receiveResponseXML)."""

    def __init__(self, hresult: str, message: str) -> None:
        super().__init__(message)
        self.hresult = hresult


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Company:
    name: str = "Acme Fire & Mechanical"
    path: str = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\acme.qbw"
    versions: tuple[str, ...] = SUPPORTED
    accounts: set[str] = field(default_factory=lambda: {"Services", "Construction Income", "Sales"})
    sales_tax_codes: set[str] = field(default_factory=lambda: {"Tax", "Non"})
    sales_tax_items: set[str] = field(default_factory=lambda: {"Durham County", "Wake County", "Orange County"})
    other_names: set[str] = field(default_factory=set)  # vendors, employees, other names (share the namespace)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # ListID -> record
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # TxnID -> record
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    locks: dict[str, int] = field(default_factory=dict)  # TxnID -> how many more Mods are refused
    can_open: bool = True
    documents: int = 0
    requests: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(0x10000))
    _iterators: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ Web Connector side
    def hcp_response(self) -> str:
        """What QBWC sends on the first sendRequestXML: HostQuery, CompanyQuery and PreferencesQuery answers."""
        versions = "".join(f"<SupportedQBXMLVersion>{v}</SupportedQBXMLVersion>" for v in self.versions)
        return (
            '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>'
            '<HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><HostRet>'
            "<ProductName>QuickBooks Enterprise Solutions 23.0</ProductName><MajorVersion>33</MajorVersion>"
            f"<MinorVersion>0</MinorVersion><Country>US</Country>{versions}<IsAutomaticLogin>true</IsAutomaticLogin>"
            "<QBFileMode>SingleUser</QBFileMode></HostRet></HostQueryRs>"
            '<CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
            f"<CompanyRet><IsSampleCompany>false</IsSampleCompany><CompanyName>{self.name}</CompanyName>"
            "</CompanyRet></CompanyQueryRs>"
            '<PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
            "<PreferencesRet><SalesTaxPreferences><PaidTaxCodeRef><FullName>Tax</FullName></PaidTaxCodeRef>"
            "</SalesTaxPreferences></PreferencesRet></PreferencesQueryRs></QBXMLMsgsRs></QBXML>"
        )

    def process(self, document: str) -> str:
        """Answer one qbXML request document (raises QbXmlError for a document QuickBooks cannot parse)."""
        try:
            root = fromstring(document)
        except Exception as exc:
            raise QbXmlError(
                PARSE_ERROR, f"QuickBooks found an error when parsing the provided XML text: {exc}"
            ) from None
        msgs = root.find("QBXMLMsgsRq")
        if root.tag != "QBXML" or msgs is None or msgs.get("onError") not in ("continueOnError", "stopOnError"):
            raise QbXmlError(PARSE_ERROR, "QuickBooks found an error when parsing the provided XML text stream.")
        for rq in msgs:
            if not hasattr(self, f"_{rq.tag}"):
                raise QbXmlError(PARSE_ERROR, f"QuickBooks found an error when parsing {rq.tag}.")
        self.documents += 1
        out = ET.Element("QBXML")
        rs_list = ET.SubElement(out, "QBXMLMsgsRs")
        stopped = False
        for rq in msgs:
            self.requests += 1
            kind = rq.tag[:-2]
            rs = ET.SubElement(rs_list, f"{kind}Rs", requestID=rq.get("requestID", ""))
            if stopped:
                _status(rs, 3231, "The request has not been processed.")
                continue
            try:
                if len(rq.get("requestID", "")) > 50:
                    raise Refused(1060, "The requestID is too long (maximum 50 characters).")
                rets, status = getattr(self, f"_{rq.tag}")(rq, rs)
                _status(rs, *status)
                for ret in rets:
                    _include(rs, kind, ret, [e.text or "" for e in rq.findall("IncludeRetElement")])
            except Refused as exc:
                _status(rs, exc.code, str(exc))
                stopped = msgs.get("onError") == "stopOnError"
        return '<?xml version="1.0" ?>' + ET.tostring(out, encoding="unicode")

    # ------------------------------------------------------------------ helpers
    def _id(self) -> str:
        return f"{next(self._ids):X}-{int(datetime.now(UTC).timestamp())}"

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def _touch(self, record: dict[str, Any]) -> None:
        record["EditSequence"] = str(int(record.get("EditSequence", "1000000000")) + 1)
        record["TimeModified"] = self._now()

    def _check_lengths(self, node: ET.Element) -> None:
        for el in node.iter():
            limit = LENGTHS.get(el.tag)
            if limit and el.text and len(el.text) > limit:
                raise Refused(3070, f'The string "{el.text}" in the field "{el.tag}" is too long.')

    def _customer_by_name(self, full_name: str) -> dict[str, Any] | None:
        return next((c for c in self.customers.values() if c["FullName"].casefold() == full_name.casefold()), None)

    def _ref(self, node: ET.Element, tag: str, exists: Any, what: str, owner: str) -> str | None:
        ref = node.find(tag)
        if ref is None:
            return None
        name = ref.findtext("FullName") or ref.findtext("ListID") or ""
        if not exists(name):
            raise Refused(3140, f'There is an invalid reference to QuickBooks {what} "{name}" in the {owner}.')
        return name

    # ------------------------------------------------------------------ lists
    def _CustomerQueryRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        names = [e.text or "" for e in rq.findall("FullName")]
        found = [c for c in (self._customer_by_name(n) for n in names) if c] if names else list(self.customers.values())
        return _query_status(found)

    def _CustomerAddRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        add = rq.find("CustomerAdd")
        if add is None or not add.findtext("Name"):
            raise Refused(3000, "CustomerAdd needs a Name.")
        self._check_lengths(add)
        name = add.findtext("Name") or ""
        parent = self._ref(add, "ParentRef", self._customer_by_name, "Customer", "Customer")
        full = f"{parent}:{name}" if parent else name
        if self._customer_by_name(full) or (not parent and name.casefold() in {n.casefold() for n in self.other_names}):
            raise Refused(3100, f'The name "{full}" of the list element is already in use.')
        record: dict[str, Any] = {
            "ListID": self._id(),
            "Name": name,
            "FullName": full,
            "CompanyName": add.findtext("CompanyName") or "",
        }
        if parent:
            record["ParentRef"] = {"FullName": parent}
        self._touch(record)
        self.customers[record["ListID"]] = record
        return [record], (0, "Status OK")

    def _ItemServiceQueryRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        names = {(e.text or "").casefold() for e in rq.findall("FullName")}
        return _query_status([i for i in self.items.values() if not names or i["FullName"].casefold() in names])

    def _ItemServiceAddRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        add = rq.find("ItemServiceAdd")
        sales = None if add is None else add.find("SalesOrPurchase")
        if add is None or sales is None:
            raise Refused(3000, "ItemServiceAdd needs a Name and SalesOrPurchase.")
        name = add.findtext("Name") or ""
        if len(name) > ITEM_NAME_MAX:
            raise Refused(3070, f'The string "{name}" in the field "Name" is too long.')
        if any(i["FullName"].casefold() == name.casefold() for i in self.items.values()):
            raise Refused(3100, f'The name "{name}" of the list element is already in use.')
        self._ref(sales, "AccountRef", lambda n: n in self.accounts, "Account", "Item")
        record = {"ListID": self._id(), "Name": name, "FullName": name}
        self._touch(record)
        self.items[record["ListID"]] = record
        return [record], (0, "Status OK")

    # ------------------------------------------------------------------ invoices
    def _invoice_fields(self, node: ET.Element, owner: str) -> dict[str, Any]:
        self._check_lengths(node)
        customer = self._ref(node, "CustomerRef", self._customer_by_name, "Customer", owner)
        self._ref(node, "ItemSalesTaxRef", lambda n: n in self.sales_tax_items, "Item", owner)
        lines: list[dict[str, Any]] = []
        for line in node.findall("InvoiceLineAdd") + node.findall("InvoiceLineMod"):
            item = self._ref(
                line, "ItemRef", lambda n: any(i["FullName"].casefold() == n.casefold() for i in self.items.values()),
                "Item", owner,
            )  # fmt: skip
            self._ref(line, "SalesTaxCodeRef", lambda n: n in self.sales_tax_codes, "Sales Tax Code", owner)
            amount = Decimal(line.findtext("Amount") or "0")
            lines.append({"TxnLineID": self._id(), "ItemRef": {"FullName": item}, "Amount": f"{amount:.2f}",
                          "Desc": line.findtext("Desc") or ""})  # fmt: skip
        fields: dict[str, Any] = {
            "RefNumber": node.findtext("RefNumber") or "",
            "TxnDate": node.findtext("TxnDate") or "",
            "Memo": node.findtext("Memo") or "",
            "InvoiceLineRet": lines,
            "Subtotal": f"{sum((Decimal(x['Amount']) for x in lines), Decimal('0')):.2f}",
        }
        if held := self._customer_by_name(customer or ""):
            fields["CustomerRef"] = {"FullName": held["FullName"]}
        return fields

    def _InvoiceAddRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        add = rq.find("InvoiceAdd")
        if add is None or add.find("CustomerRef") is None:
            raise Refused(3000, "InvoiceAdd needs a CustomerRef.")
        record = {"TxnID": self._id(), **self._invoice_fields(add, "Invoice")}
        if guid := add.findtext("ExternalGUID"):
            record["ExternalGUID"] = guid
        record["BalanceRemaining"] = record["Subtotal"]
        self._touch(record)
        self.invoices[record["TxnID"]] = record
        return [record], (0, "Status OK")

    def _InvoiceModRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        mod = rq.find("InvoiceMod")
        txn_id = "" if mod is None else mod.findtext("TxnID") or ""
        record = self.invoices.get(txn_id)
        if mod is None or record is None:
            raise Refused(3000, f'The given object ID "{txn_id}" in the field "TxnID" is invalid.')
        if self.locks.get(txn_id, 0) > 0:
            self.locks[txn_id] -= 1
            raise Refused(3170, f"There was an error when modifying a Invoice. The record {txn_id} is in use.")
        if mod.findtext("EditSequence") != record["EditSequence"]:
            raise Refused(3200, "The provided edit sequence is out-of-date.")
        fields = self._invoice_fields(mod, "Invoice")
        record.update({k: v for k, v in fields.items() if v or k == "InvoiceLineRet"})
        self._touch(record)
        return [record], (0, "Status OK")

    def _InvoiceQueryRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        if rq.get("iterator") == "Continue":
            return self._paged(rq, rs, self._continued(rq))
        ids = {e.text for e in rq.findall("TxnID")}
        numbers = {(e.text or "").casefold() for e in rq.findall("RefNumber")}
        first, last = rq.findtext("TxnDateRangeFilter/FromTxnDate"), rq.findtext("TxnDateRangeFilter/ToTxnDate")
        found = [
            r for r in self.invoices.values()
            if ((not ids and not numbers) or r["TxnID"] in ids or r["RefNumber"].casefold() in numbers)
            and (not first or r["TxnDate"] >= first) and (not last or r["TxnDate"] <= last)
        ]  # fmt: skip
        return self._paged(rq, rs, found)

    def void_invoice(self, txn_id: str) -> None:
        """What a bookkeeper's Edit > Void Invoice does: amounts zeroed, "VOID:" prefixed to the memo."""
        record = self.invoices[txn_id]
        lines = [{**line, "Amount": "0.00"} for line in record["InvoiceLineRet"]]
        memo = f"VOID: {record.get('Memo', '')}".strip()
        record.update(InvoiceLineRet=lines, Subtotal="0.00", BalanceRemaining="0.00", Memo=memo)
        self._touch(record)

    # ------------------------------------------------------------------ payments
    def receive_payment(self, invoice_txn: str, amount: Decimal, method: str = "Check") -> dict[str, Any]:
        """A payment a bookkeeper enters in QuickBooks, applied to one invoice."""
        invoice = self.invoices[invoice_txn]
        applied = {"TxnID": invoice_txn, "TxnType": "Invoice", "Amount": f"{amount:.2f}"}
        record = {
            "TxnID": self._id(),
            "TxnDate": datetime.now(UTC).date().isoformat(),
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmount": f"{amount:.2f}",
            "PaymentMethodRef": {"FullName": method},
            "AppliedToTxnRet": [applied],
        }
        self._touch(record)
        self.payments[record["TxnID"]] = record
        return record

    def void_payment(self, txn_id: str) -> None:
        record = self.payments[txn_id]
        record.update(TotalAmount="0.00", AppliedToTxnRet=[])
        self._touch(record)

    def delete_payment(self, txn_id: str) -> None:
        self.payments.pop(txn_id)
        self.deleted.append({"TxnDelType": "ReceivePayment", "TxnID": txn_id, "TimeDeleted": self._now()})

    def _ReceivePaymentQueryRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        if rq.get("iterator") == "Continue":
            rest = self._continued(rq)
        else:
            since = rq.findtext("ModifiedDateRangeFilter/FromModifiedDate") or ""
            rest = sorted(
                (p for p in self.payments.values() if not since or _utc(p["TimeModified"]) >= _utc(since)),
                key=lambda p: p["TimeModified"],
            )
        return self._paged(rq, rs, rest)

    def _paged(self, rq: ET.Element, rs: ET.Element, rest: list[dict[str, Any]]) -> Answer:
        """A query's answer, one MaxReturned page at a time when the request starts or continues an iterator."""
        iterator_id = rq.get("iteratorID", "") if rq.get("iterator") == "Continue" else "{" + str(uuid.uuid4()) + "}"
        page_size = int(rq.findtext("MaxReturned") or len(rest) or 1)
        page, rest = rest[:page_size], rest[page_size:]
        if rq.get("iterator"):
            if rest:
                self._iterators[iterator_id] = rest
            rs.set("iteratorRemainingCount", str(len(rest)))
            rs.set("iteratorID", iterator_id)
        return _query_status(page)

    def _continued(self, rq: ET.Element) -> list[dict[str, Any]]:
        iterator_id = rq.get("iteratorID", "")
        if iterator_id not in self._iterators:
            raise Refused(3000, f'The iteratorID "{iterator_id}" is invalid.')
        return self._iterators.pop(iterator_id)

    def _TxnDeletedQueryRq(self, rq: ET.Element, rs: ET.Element) -> Answer:
        since = rq.findtext("DeletedDateRangeFilter/FromDeletedDate") or ""
        kinds = {e.text for e in rq.findall("TxnDelType")}
        found = [
            d for d in self.deleted if d["TxnDelType"] in kinds and (not since or _utc(d["TimeDeleted"]) >= _utc(since))
        ]
        return _query_status(found)


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _query_status(found: list[dict[str, Any]]) -> Answer:
    if not found:
        return [], (1, "A query request did not find a matching object in QuickBooks")
    return found, (0, "Status OK")


def _status(rs: ET.Element, code: int, message: str) -> None:
    rs.set("statusCode", str(code))
    rs.set("statusSeverity", "Info" if code < 500 else "Warn" if code < 1000 else "Error")
    rs.set("statusMessage", message)


def _include(rs: ET.Element, kind: str, record: dict[str, Any], include: list[str]) -> None:
    ret_tag = {"TxnDeletedQuery": "TxnDeletedRet"}.get(kind, kind.replace("Query", "").replace("Add", "")
                                                                  .replace("Mod", "") + "Ret")  # fmt: skip
    ret = ET.SubElement(rs, ret_tag)
    for key, value in record.items():
        if include and key not in include:
            continue
        _put(ret, key, value)


def _put(parent: ET.Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        for v in value:
            _put(parent, key, v)
    elif isinstance(value, dict):
        node = ET.SubElement(parent, key)
        for k, v in value.items():
            _put(node, k, v)
    else:
        ET.SubElement(parent, key).text = str(value)
