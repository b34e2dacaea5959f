"""The XML gateway of the double: one request in, one response out, as Sage's Web Services API 3.0 does it.

Checks in the order Sage documents them (https://developer.intacct.com/web-services/error-handling):
the XML parses (else XL03000003 in the control block); the sender id and password (control-block failure,
XL03000006); the operation's authentication - a login (company, user, password, and the sender on the
company's Web Services authorization list) or a session id, which must be live and sent to the endpoint
getAPISession named (authentication failure, XL03000006); then each function on its own: a failure fails
that function's result only, unless the operation is transaction="true", when every change is rolled back
and XL03000009 is reported. With uniqueid=true a function whose controlid already ran is refused, quoting
the control id, and nothing runs twice. Too many requests in flight for one company get HTTP 429 with the
gateway error GW-0010. readByQuery pages with resultId/readMore and reports numremaining.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from sandbox.intacct.company import Company, Refused, matches, stamp

LOGIN_PATH = "/ia/xml/xmlgw.phtml"
ROLLED_BACK = ("XL03000009", "The entire transaction in this operation has been rolled back due to an error.")
WRITES = {"create", "update", "create_invoice", "update_invoice"}


@dataclass
class Options:
    sender_id: str = "ledgerbridge-dev"
    sender_password: str = "sandbox-sender-password"  # noqa: S105 - the double's published demo login
    company_id: str = "acme-demo"
    user_id: str = "ws_ledgerbridge"
    user_password: str = "sandbox-user-password"  # noqa: S105
    session_ttl_s: float = 3600.0
    concurrency: int = 2  # requests in flight per company (integrators report 2 by default; docs/intacct.md)
    latency_s: float = 0.0  # added to every request (the bench sets Intacct-like figures)
    function_latency_s: float = 0.0  # added per function
    unique_invoice_numbers: bool = False  # off, as in a company whose AR numbering allows repeats


@dataclass
class Session:
    company_id: str
    user_id: str
    expires: float


@dataclass
class ResultSet:
    company_id: str
    records: list[dict[str, Any]]
    pagesize: int


@dataclass
class Answer:
    status: int
    body: bytes
    drop: bool = False  # committed, but close the connection without answering


@dataclass
class Gateway:
    options: Options = field(default_factory=Options)
    base_url: str = ""
    offset_s: float = 0.0
    companies: dict[str, Company] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    executed: set[tuple[str, str]] = field(default_factory=set)  # (company, function controlid) that ran
    result_sets: dict[str, ResultSet] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    drops: int = 0
    requests: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        o = self.options
        self.companies.setdefault(
            o.company_id, Company(o.company_id, users={o.user_id: o.user_password}, senders={o.sender_id})
        )

    def now(self) -> float:
        return time.time() + self.offset_s

    def company(self, company_id: str | None = None) -> Company:
        return self.companies[company_id or self.options.company_id]

    def session_path(self, company_id: str) -> str:
        return f"/ia/xml/session/{company_id}/xmlgw.phtml"

    # -- one request ----------------------------------------------------------------------------------------

    def handle(self, path: str, body: bytes) -> Answer:
        with self.lock:
            self.requests += 1
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - local double, test input
        except ElementTree.ParseError as exc:
            return self._control_failure("", "", "XL03000003", "", f"XML Parse schema error: {exc}")
        control = root.find("control")
        operation = root.find("operation")
        if root.tag != "request" or control is None or operation is None:
            return self._control_failure("", "", "XL03000003", "", "XML Parse schema error: not a <request>")
        sender, controlid = _text(control, "senderid"), _text(control, "controlid")
        if (sender, _text(control, "password")) != (self.options.sender_id, self.options.sender_password):
            return self._control_failure(
                sender, controlid, "XL03000006", "Incorrect Intacct XML Partner ID or password.", ""
            )
        unique = _text(control, "uniqueid") == "true"
        head = {"senderid": sender, "controlid": controlid, "uniqueid": "true" if unique else "false"}
        auth = self._authenticate(operation, sender, path)
        if isinstance(auth, Answer):
            return Answer(200, _response(head, auth.body))
        company_id, user_id, session_id = auth
        with self.lock:
            busy = self.in_flight.get(company_id, 0) >= self.options.concurrency
            if not busy:
                self.in_flight[company_id] = self.in_flight.get(company_id, 0) + 1
        if busy:
            return Answer(
                429,
                _response(
                    {**head, "status": "failure"},
                    None,
                    _errors([("GW-0010", "Too many requests: the company's concurrent request limit is reached")]),
                ),
            )
        try:
            functions = [f for content in operation.findall("content") for f in content.findall("function")]
            self.sleep(self.options.latency_s + self.options.function_latency_s * len(functions))
            with self.lock:
                results = self._run(company_id, user_id, functions, unique, operation.get("transaction") == "true")
                timeout = self._touch(session_id)
                wrote = any(len(f) and f[0].tag in WRITES for f in functions)
                drop = wrote and self.drops > 0
                if drop:
                    self.drops -= 1
        finally:
            with self.lock:
                self.in_flight[company_id] -= 1
        auth_block = _auth_block("success", user_id, company_id, timeout)
        return Answer(200, _response(head, auth_block + b"".join(results)), drop=drop)

    def _authenticate(self, operation: ElementTree.Element, sender: str, path: str) -> tuple[str, str, str] | Answer:
        login = operation.find("authentication/login")
        session_id = _text(operation, "authentication/sessionid")
        if login is not None:
            company = self.companies.get(_text(login, "companyid"))
            user = _text(login, "userid")
            if company is None or company.users.get(user) != _text(login, "password"):
                return _auth_failure("Sign-in information is incorrect", "Check the user ID, company ID and password")
            if sender not in company.senders:
                return _auth_failure(
                    f"The sender ID {sender} is not authorized to make Web Services requests to this company.",
                    "Add the sender ID on Company > Setup > Company > Security > Web Services authorizations",
                )
            return company.company_id, user, ""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session.expires <= self.now():
                self.sessions.pop(session_id, None)
                return _auth_failure("Invalid session", "Sign in again with getAPISession")
        if path != self.session_path(session.company_id):
            return _auth_failure("Invalid session", "Send session requests to the endpoint getAPISession returned")
        return session.company_id, session.user_id, session_id

    def _touch(self, session_id: str) -> float:
        expires = self.now() + self.options.session_ttl_s
        if session_id in self.sessions:
            self.sessions[session_id].expires = expires  # the timeout slides forward with each call
        return expires

    # -- functions ------------------------------------------------------------------------------------------

    def _run(
        self, company_id: str, user_id: str, functions: list[ElementTree.Element], unique: bool, transaction: bool
    ) -> list[bytes]:
        company = self.companies[company_id]
        saved = copy.deepcopy(company) if transaction else None
        done: list[tuple[str, str, Refused | ElementTree.Element]] = []
        ran: list[str] = []
        for fn in functions:
            controlid = fn.get("controlid", "")
            name = fn[0].tag if len(fn) else ""
            try:
                if unique and (company_id, controlid) in self.executed:
                    raise Refused(
                        "XL03000004",  # the double's number; see docs/intacct.md
                        f"A request with control ID {controlid} has already been executed.",
                        "uniqueid is true, so this function was not run again.",
                        "Look the record up instead of sending it again.",
                    )
                outcome: Refused | ElementTree.Element = self._function(company, user_id, fn[0])
                ran.append(controlid)
            except Refused as exc:
                outcome = exc
            done.append((name, controlid, outcome))
        failed = any(isinstance(o, Refused) for _, _, o in done)
        if transaction and failed and saved is not None:
            self.companies[company_id] = saved
            return [_rolled_back(name, cid, o) for name, cid, o in done]
        if unique:
            self.executed.update((company_id, c) for c in ran)
        return [_result(name, cid, o) for name, cid, o in done]

    def _function(self, company: Company, user_id: str, fn: ElementTree.Element) -> ElementTree.Element:
        name = fn.tag
        if name == "getAPISession":
            session_id = uuid.uuid4().hex + ".."
            self.sessions[session_id] = Session(company.company_id, user_id, self.now() + self.options.session_ttl_s)
            return _data(
                [
                    _el(
                        "api",
                        {
                            "sessionid": session_id,
                            "endpoint": self.base_url + self.session_path(company.company_id),
                            "locationid": "",
                        },
                    )
                ]
            )
        handlers: dict[str, Callable[[Company, ElementTree.Element], ElementTree.Element]] = {
            "create": self._create,
            "update": self._update,
            "create_invoice": self._create_invoice,
            "update_invoice": self._update_invoice,
            "readByQuery": self._read_by_query,
            "readMore": self._read_more,
            "read": self._read,
            "readByName": self._read_by_name,
        }
        if name not in handlers:
            raise Refused("XL03000003", f"Function {name} is not supported by this sandbox")
        return handlers[name](company, fn)

    def _create(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        record = _only_object(fn, "CUSTOMER")
        customer_id = str(record.get("CUSTOMERID", ""))
        if not customer_id or not record.get("NAME"):
            raise Refused("BL34000061", "Customer ID and name are required", correction="Provide CUSTOMERID and NAME")
        if customer_id in company.customers:
            raise Refused(
                "BL01001973",
                f"Another customer with the given value(s) {customer_id} already exists",
                correction="Use a unique customer ID",
            )
        parent = str(record.get("PARENTID", ""))
        if parent and parent not in company.customers:
            raise Refused("BL01001973", f"Invalid parent customer {parent}", correction="Create the parent first")
        recordno = company.recordno()
        company.customers[customer_id] = {
            "RECORDNO": recordno,
            **record,
            "STATUS": "active",
            "WHENMODIFIED": stamp(datetime.fromtimestamp(self.now(), UTC)),
        }
        return _data([_el("customer", {"RECORDNO": recordno, "CUSTOMERID": customer_id})])

    def _update(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        record = _only_object(fn, "CUSTOMER")
        customer_id = str(record.get("CUSTOMERID", ""))
        current = company.customers.get(customer_id)
        if current is None:
            raise Refused("BL01001973", f"Customer {customer_id} does not exist", correction="Check the customer ID")
        current.update(record)
        current["WHENMODIFIED"] = stamp(datetime.fromtimestamp(self.now(), UTC))
        return _data([_el("customer", {"RECORDNO": current["RECORDNO"], "CUSTOMERID": customer_id})])

    def _create_invoice(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        customer_id = _text(fn, "customerid")
        if customer_id not in company.customers:
            raise Refused(
                "BL01001973",
                "Invalid Customer",
                f"The customer {customer_id} does not exist.",
                "Create the customer first, or use an existing customer ID.",
            )
        number = _text(fn, "invoiceno")
        if self.options.unique_invoice_numbers and any(i["RECORDID"] == number for i in company.invoices.values()):
            raise Refused("BL03000130", f"Document number {number} already exists", correction="Use another number")
        recordno = company.recordno()
        invoice = {"RECORDNO": recordno, "RECORDID": number, "CUSTOMERID": customer_id, "STATE": "Posted"}
        self._invoice_fields(company, invoice, fn, fn.find("invoiceitems"))
        company.invoices[recordno] = invoice
        return _key(recordno)

    def _update_invoice(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        key = fn.get("key", "")
        current = company.invoices.get(key)
        if current is None:
            raise Refused("BL01001973", f"Invoice {key} does not exist", correction="Check the record number")
        updated = copy.deepcopy(current)
        if _text(fn, "customerid"):
            updated["CUSTOMERID"] = _text(fn, "customerid")
        self._invoice_fields(company, updated, fn, fn.find("updateinvoiceitems"))
        company.invoices[key] = updated
        return _key(key)

    def _invoice_fields(
        self, company: Company, invoice: dict[str, Any], fn: ElementTree.Element, items: ElementTree.Element | None
    ) -> None:
        created = _ymd(fn.find("datecreated"))
        if created is not None:
            invoice["WHENCREATED"] = created.strftime("%m/%d/%Y")
        terms = _text(fn, "termname")
        if terms:
            company.must_exist("term", terms, company.terms)
            invoice["TERMNAME"] = terms
        due = _ymd(fn.find("datedue"))
        if due is None and terms and "WHENCREATED" in invoice:
            days = int("".join(c for c in terms if c.isdigit()) or 0)
            due = datetime.strptime(invoice["WHENCREATED"], "%m/%d/%Y").date() + timedelta(days=days)
        if due is not None:
            invoice["WHENDUE"] = due.strftime("%m/%d/%Y")
        if "WHENDUE" not in invoice:
            raise Refused("BL03000104", "Due date or term is required", correction="Provide datedue or termname")
        for src, dst in (("ponumber", "DOCNUMBER"), ("description", "DESCRIPTION"), ("invoiceno", "RECORDID")):
            if fn.find(src) is not None:
                invoice[dst] = _text(fn, src)
        lines: list[dict[str, Any]] = list((invoice.get("ARINVOICEITEMS") or {}).get("arinvoiceitem", []))
        for item in list(items) if items is not None else []:
            line = _line(item)
            if item.tag == "updatelineitem":
                n = int(item.get("line_num", "0"))
                if not 1 <= n <= len(lines):
                    raise Refused("BL03000105", f"Line {n} does not exist", correction="Check line_num")
                merged = {**lines[n - 1], **line}
                company.check_line(merged)
                lines[n - 1] = merged
            else:
                company.check_line(line)
                lines.append({**line, "LINE_NO": str(len(lines) + 1)})
        if not lines:
            raise Refused("BL03000106", "An invoice needs at least one line", correction="Add a line item")
        total = sum((Decimal(str(line["AMOUNT"])) for line in lines), Decimal("0"))
        invoice["ARINVOICEITEMS"] = {"arinvoiceitem": lines}
        invoice["TOTALENTERED"] = str(total)
        paid = Decimal(str(invoice.get("TOTALPAID", "0")))
        invoice["TOTALPAID"], invoice["TOTALDUE"] = str(paid), str(total - paid)
        invoice["WHENMODIFIED"] = stamp(datetime.fromtimestamp(self.now(), UTC))

    def _read_by_query(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        obj = _text(fn, "object").upper()
        pagesize = min(int(_text(fn, "pagesize") or 100), 1000)
        rows = [r for r in company.table(obj) if matches(r, _text(fn, "query"))]
        rows.sort(key=lambda r: int(r.get("RECORDNO", 0) or 0))
        return self._page(company.company_id, obj, rows, pagesize)

    def _read_more(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        result_id = _text(fn, "resultId")
        found = self.result_sets.get(result_id)
        if found is None or found.company_id != company.company_id:
            raise Refused("DL02000001", f"Invalid resultId {result_id}", correction="Run the query again")
        del self.result_sets[result_id]
        return self._page(company.company_id, "", found.records, found.pagesize, result_id)

    def _page(
        self, company_id: str, obj: str, rows: list[dict[str, Any]], pagesize: int, result_id: str = ""
    ) -> ElementTree.Element:
        page, rest = rows[:pagesize], rows[pagesize:]
        attrs = {
            "listtype": obj.lower() or "record",
            "count": str(len(page)),
            "totalcount": str(len(rows)),
            "numremaining": str(len(rest)),
        }
        if rest:
            result_id = result_id or uuid.uuid4().hex
            self.result_sets[result_id] = ResultSet(company_id, rest, pagesize)
            attrs["resultId"] = result_id
        return _data([_el(obj.lower() or "record", r) for r in page], attrs)

    def _read(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        obj = _text(fn, "object").upper()
        keys = [k.strip() for k in _text(fn, "keys").split(",") if k.strip()]
        table = {"ARINVOICE": company.invoices, "ARPYMT": company.payments}.get(obj)
        if table is None:
            raise Refused("BL01001973", f"read of {obj} is not supported by this sandbox")
        return _data([_el(obj.lower(), table[k]) for k in keys if k in table], {"listtype": obj.lower()})

    def _read_by_name(self, company: Company, fn: ElementTree.Element) -> ElementTree.Element:
        names = [k.strip() for k in _text(fn, "keys").split(",") if k.strip()]
        rows = [company.customers[n] for n in names if n in company.customers]
        return _data([_el("customer", r) for r in rows], {"listtype": "customer"})

    # -- the bookkeeper's side (levers for tests and the demo) ---------------------------------------------

    def apply_payment(
        self,
        applied: dict[str, Decimal],
        received: date,
        method: str = "Printed Check",
        company_id: str | None = None,
    ) -> str:
        """Record an ARPYMT applying amounts to invoices (RECORDNO -> amount); returns its RECORDNO."""
        with self.lock:
            company = self.company(company_id)
            now = stamp(datetime.fromtimestamp(self.now(), UTC))
            recordno = company.recordno()
            customers = {company.invoices[k]["CUSTOMERID"] for k in applied}
            for invoice_key, amount in applied.items():
                company.payment_details.append(
                    {
                        "RECORDNO": company.recordno(),
                        "PAYMENTKEY": recordno,
                        "RECORDKEY": invoice_key,
                        "TRX_PAYMENTAMOUNT": str(amount),
                        "WHENMODIFIED": now,
                    }
                )
                self._paid(company, invoice_key, amount, now)
            company.payments[recordno] = {
                "RECORDNO": recordno,
                "CUSTOMERID": customers.pop(),
                "STATE": "C",
                "PAYMENTMETHOD": method,
                "RECEIPTDATE": received.strftime("%m/%d/%Y"),
                "TOTALPAID": str(sum(applied.values(), Decimal("0"))),
                "WHENMODIFIED": now,
            }
            return recordno

    def reverse_payment(self, recordno: str, company_id: str | None = None) -> None:
        """Reverse (void) a payment: its STATE becomes V and its invoices are owed again."""
        with self.lock:
            company = self.company(company_id)
            now = stamp(datetime.fromtimestamp(self.now(), UTC))
            payment = company.payments[recordno]
            payment.update({"STATE": "V", "WHENMODIFIED": now})
            for detail in company.payment_details:
                if detail["PAYMENTKEY"] == recordno:
                    self._paid(company, detail["RECORDKEY"], -Decimal(detail["TRX_PAYMENTAMOUNT"]), now)
                    detail["WHENMODIFIED"] = now

    def _paid(self, company: Company, invoice_key: str, amount: Decimal, now: str) -> None:
        invoice = company.invoices[invoice_key]
        paid = Decimal(invoice["TOTALPAID"]) + amount
        invoice.update(
            {"TOTALPAID": str(paid), "TOTALDUE": str(Decimal(invoice["TOTALENTERED"]) - paid), "WHENMODIFIED": now}
        )

    def _control_failure(self, sender: str, controlid: str, errorno: str, description: str, more: str) -> Answer:
        head = {"status": "failure", "senderid": sender, "controlid": controlid, "uniqueid": "false"}
        return Answer(200, _response(head, None, _errors([(errorno, description, more)])))


# -- XML helpers ------------------------------------------------------------------------------------------


def _text(el: ElementTree.Element | None, path: str) -> str:
    found = el.find(path) if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def _ymd(el: ElementTree.Element | None) -> date | None:
    if el is None:
        return None
    try:
        return date(int(_text(el, "year")), int(_text(el, "month")), int(_text(el, "day")))
    except ValueError as exc:
        raise Refused("BL03000107", f"Invalid date: {exc}", correction="Send year, month and day") from exc


def _plain(el: ElementTree.Element) -> Any:
    if not len(el):
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for child in el:
        out[child.tag] = _plain(child)
    return out


def _only_object(fn: ElementTree.Element, obj: str) -> dict[str, Any]:
    if len(fn) != 1 or fn[0].tag != obj:
        raise Refused("BL01001973", f"{fn.tag} of {fn[0].tag if len(fn) else 'nothing'} is not supported here")
    record = _plain(fn[0])
    return record if isinstance(record, dict) else {}


LINE_TAGS = {
    "glaccountno": "ACCOUNTNO",
    "amount": "AMOUNT",
    "memo": "ENTRYDESCRIPTION",
    "locationid": "LOCATIONID",
    "departmentid": "DEPARTMENTID",
    "projectid": "PROJECTID",
    "classid": "CLASSID",
}


def _line(item: ElementTree.Element) -> dict[str, Any]:
    line: dict[str, Any] = {}
    for tag, name in LINE_TAGS.items():
        if item.find(tag) is not None:
            line[name] = _text(item, tag)
    if "AMOUNT" in line:
        try:
            line["AMOUNT"] = str(Decimal(line["AMOUNT"]))
        except InvalidOperation as exc:
            raise Refused("BL03000108", f"Invalid amount {line['AMOUNT']}", correction="Send a number") from exc
    for custom in item.findall("customfields/customfield"):
        line[_text(custom, "customfieldname")] = _text(custom, "customfieldvalue")
    return line


def _el(tag: str, value: Any) -> ElementTree.Element:
    el = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            for item in child if isinstance(child, list) else [child]:
                el.append(_el(key, item))
    else:
        el.text = str(value)
    return el


def _data(records: list[ElementTree.Element], attrs: dict[str, str] | None = None) -> ElementTree.Element:
    data = ElementTree.Element("data", attrs or {})
    data.extend(records)
    return data


def _key(value: str) -> ElementTree.Element:
    el = ElementTree.Element("key")
    el.text = value
    return el


def _errors(entries: list[tuple[str, ...]]) -> ElementTree.Element:
    holder = ElementTree.Element("errormessage")
    for entry in entries:
        errorno, description, description2, correction = (*entry, "", "", "")[:4]
        holder.append(
            _el(
                "error",
                {
                    "errorno": errorno,
                    "description": description,
                    "description2": description2,
                    "correction": correction,
                },
            )
        )
    return holder


def _refused_errors(exc: Refused) -> ElementTree.Element:
    return _errors([(exc.errorno, exc.description, exc.description2, exc.correction)])


def _result(function: str, controlid: str, outcome: Refused | ElementTree.Element) -> bytes:
    el = ElementTree.Element("result")
    failed = isinstance(outcome, Refused)
    el.append(_el("status", "failure" if failed else "success"))
    el.append(_el("function", function))
    el.append(_el("controlid", controlid))
    el.append(_refused_errors(outcome) if isinstance(outcome, Refused) else outcome)
    return ElementTree.tostring(el)


def _rolled_back(function: str, controlid: str, outcome: Refused | ElementTree.Element) -> bytes:
    el = ElementTree.Element("result")
    el.append(_el("status", "failure" if isinstance(outcome, Refused) else "aborted"))
    el.append(_el("function", function))
    el.append(_el("controlid", controlid))
    entries: list[tuple[str, ...]] = [ROLLED_BACK]
    if isinstance(outcome, Refused):
        entries.insert(0, (outcome.errorno, outcome.description, outcome.description2, outcome.correction))
    el.append(_errors(entries))
    return ElementTree.tostring(el)


def _auth_block(status: str, user_id: str, company_id: str, timeout: float) -> bytes:
    moment = datetime.fromtimestamp(timeout, UTC).isoformat(timespec="seconds")
    block = _el(
        "authentication",
        {
            "status": status,
            "userid": user_id,
            "companyid": company_id,
            "locationid": "",
            "sessiontimestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "sessiontimeout": moment,
        },
    )
    return ElementTree.tostring(block)


def _auth_failure(description: str, correction: str) -> Answer:
    block = ElementTree.tostring(_el("authentication", {"status": "failure"}))
    errors = ElementTree.tostring(_errors([("XL03000006", description, "", correction)]))
    return Answer(200, block + errors)


def _response(head: dict[str, str], operation: bytes | None, errors: ElementTree.Element | None = None) -> bytes:
    control = {
        "status": head.get("status", "success"),
        "senderid": head.get("senderid", ""),
        "controlid": head.get("controlid", ""),
        "uniqueid": head.get("uniqueid", "false"),
        "dtdversion": "3.0",
    }
    parts = [b'<?xml version="1.0" encoding="UTF-8"?><response>', ElementTree.tostring(_el("control", control))]
    if errors is not None:
        parts.append(ElementTree.tostring(errors))
    if operation is not None:
        parts += [b"<operation>", operation, b"</operation>"]
    parts.append(b"</response>")
    return b"".join(parts)
