"""Per-entity rules of the sandbox: what QBO validates and computes on a write (Intuit's entity reference
pages and error codes, and the XSDs of Intuit's Java SDK; docs/qbo.md "Sources" names each).

Each `prepare_*` gets the merged document (create body, or the old document with the update applied) and
the document before the write (None on create), checks it, fills in what QBO fills in, and raises QboFault.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sandbox.qbo import faults

if TYPE_CHECKING:
    from sandbox.qbo.store import Realm

CENT = Decimal("0.01")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
DOC_NUMBER_MAX = 21  # Intuit: DocNumber (Finance.xsd DocNumber annotation in Intuit's Java SDK)
MEMO_MAX = 1000
PRIVATE_NOTE_MAX = 4000

# url segment -> entity name (URIs are lower-case and case sensitive: Intuit, base URLs and timeouts)
ENTITIES: dict[str, str] = {
    "customer": "Customer",
    "vendor": "Vendor",
    "employee": "Employee",
    "item": "Item",
    "taxcode": "TaxCode",
    "class": "Class",
    "department": "Department",
    "account": "Account",
    "invoice": "Invoice",
    "payment": "Payment",
}
PEOPLE = ("Customer", "Vendor", "Employee")  # DisplayName unique across the three (IntuitNamesTypes.xsd, Intuit SDK)
NAME_LISTS = frozenset({*PEOPLE, "Item", "TaxCode", "Class", "Department", "Account"})
READ_ONLY = frozenset({"TaxCode"})  # tax codes are made through TaxService, not the entity endpoint
DELETABLE = frozenset({"Invoice", "Payment"})

_COMMON = frozenset({"Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime"})
FILTERABLE: dict[str, frozenset[str]] = {
    "Customer": _COMMON
    | {
        "DisplayName",
        "GivenName",
        "FamilyName",
        "CompanyName",
        "FullyQualifiedName",
        "Active",
        "Job",
        "ParentRef",
        "Balance",
    },
    "Vendor": _COMMON | {"DisplayName", "GivenName", "FamilyName", "CompanyName", "Active"},
    "Employee": _COMMON | {"DisplayName", "GivenName", "FamilyName", "Active"},
    "Item": _COMMON | {"Name", "FullyQualifiedName", "Type", "Active", "Sku"},
    "TaxCode": _COMMON | {"Name", "Active", "Taxable"},
    "Class": _COMMON | {"Name", "FullyQualifiedName", "Active"},
    "Department": _COMMON | {"Name", "FullyQualifiedName", "Active"},
    "Account": _COMMON | {"Name", "FullyQualifiedName", "AccountType", "AccountSubType", "Classification", "Active"},
    "Invoice": _COMMON | {"DocNumber", "TxnDate", "DueDate", "CustomerRef", "TotalAmt", "Balance"},
    "Payment": _COMMON | {"TxnDate", "CustomerRef", "TotalAmt", "PaymentRefNum"},
}


# AccountType -> (Classification, the AccountSubType used when none is given). Types, classifications and
# subtype names from Intuit's Account entity reference and its "account classifications" table.
ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "Bank": ("Asset", "Checking"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Equity": ("Equity", "OpeningBalanceEquity"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Income": ("Revenue", "ServiceFeeIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
}


def money(value: Any, element: str) -> Decimal:
    """A JSON number, or a string holding one: python-quickbooks writes Decimal values as strings
    (its DecimalEncoder; routablehq/python-quickbooks#364) and QBO takes them."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise faults.business_validation(f"{element} must be a number, got {value!r}", element)
    return Decimal(value)


def _blank_dates(doc: dict[str, Any], *keys: str) -> None:
    """An empty date is an absent one (python-quickbooks sends TxnDate "" on a new transaction)."""
    for key in keys:
        if doc.get(key) == "":
            del doc[key]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def name_of(doc: dict[str, Any]) -> str:
    return str(doc.get("DisplayName") or doc.get("Name") or "")


def _required_ref(doc: dict[str, Any], key: str, what: str = "") -> dict[str, Any]:
    """A reference the entity needs. Intuit's reference marks CustomerRef "required" (a missing one is code
    2020); for refs it leaves implicit (`what` given) the sandbox answers a business validation error."""
    ref = doc.get(key)
    if not isinstance(ref, dict) or not ref.get("value"):
        if what:
            raise faults.business_validation(f"{key} is required: set the {what}", key)
        raise faults.required_param(key)
    return ref


def prepare_person(
    realm: Realm, entity: str, doc: dict[str, Any], old: dict[str, Any] | None, horizon: int | None
) -> None:
    if not doc.get("DisplayName"):
        derived = " ".join(str(doc.get(k) or "") for k in ("GivenName", "FamilyName")).strip()
        doc["DisplayName"] = derived or str(doc.get("CompanyName") or "")
    display = str(doc["DisplayName"]).strip()
    if not display:
        raise faults.business_validation("DisplayName (or a name to derive it from) is required", "DisplayName")
    doc["DisplayName"] = display
    for other_entity in PEOPLE:
        for other in realm.objects[other_entity].values():
            same_record = old is not None and other["Id"] == old["Id"] and other_entity == entity
            if not same_record and name_of(other).casefold() == display.casefold():
                raise faults.duplicate_name()
    doc.setdefault("Active", True)
    if entity != "Customer":
        return
    # Balance is written on create only (the opening balance, Intuit's Customer reference); updates keep it
    doc["Balance"] = old.get("Balance", Decimal("0")) if old else money(doc.get("Balance", 0), "Balance")
    parent_ref = doc.get("ParentRef")
    if isinstance(parent_ref, dict) and parent_ref.get("value"):
        parent = realm.resolve(parent_ref, "Customer", "ParentRef", horizon)
        if old is not None and parent["Id"] == old["Id"]:
            raise faults.validation("900", "Parent cannot be child", "A customer cannot be its own parent")
        doc.setdefault("Job", True)
        doc.setdefault("BillWithParent", False)
        doc["Level"] = int(parent.get("Level", 0)) + 1
        doc["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{display}"
    else:
        doc.pop("ParentRef", None)
        doc["Job"] = False
        doc["Level"] = 0
        doc["FullyQualifiedName"] = display


def prepare_named(
    realm: Realm, entity: str, doc: dict[str, Any], old: dict[str, Any] | None, horizon: int | None
) -> None:
    name = str(doc.get("Name") or "").strip()
    if not name:
        raise faults.business_validation(f"{entity} Name is required", "Name")
    doc["Name"] = name
    for other in realm.objects[entity].values():
        if (old is None or other["Id"] != old["Id"]) and name_of(other).casefold() == name.casefold():
            raise faults.validation(
                "6240",
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Another {entity.lower()} is already "
                "using this name. Please use a different name.",
                "Name",
            )
    doc.setdefault("Active", True)
    doc["FullyQualifiedName"] = name
    if entity == "Item":
        doc.setdefault("Type", "Service")
        doc.setdefault("UnitPrice", Decimal("0"))
        if doc["Type"] in ("Service", "NonInventory"):
            _required_ref(doc, "IncomeAccountRef", "income account")
            realm.resolve(doc["IncomeAccountRef"], "Account", "IncomeAccountRef", horizon)
    if entity == "Account":
        if not doc.get("AccountType"):
            raise faults.business_validation("AccountType is required", "AccountType")
        kind = doc["AccountType"]
        if kind not in ACCOUNT_TYPES:
            raise faults.validation("2170", "Invalid Enumeration", f"AccountType {kind!r} is not valid", "AccountType")
        classification, subtype = ACCOUNT_TYPES[kind]
        doc["AccountSubType"] = doc.get("AccountSubType") or subtype
        doc["Classification"] = classification


def _line_amount(line: dict[str, Any], n: int) -> Decimal:
    if "Amount" not in line:
        raise faults.business_validation(f"Line {n}: you must set a transaction amount", "Line.Amount")
    return money(line["Amount"], "Line.Amount")


def prepare_invoice(
    realm: Realm, entity: str, doc: dict[str, Any], old: dict[str, Any] | None, horizon: int | None
) -> None:
    realm.resolve(_required_ref(doc, "CustomerRef"), "Customer", "CustomerRef", horizon)
    lines = [ln for ln in doc.get("Line") or [] if ln.get("DetailType") != "SubTotalLineDetail"]
    if not lines:
        raise faults.required_param("Line")
    subtotal = Decimal("0")
    for n, line in enumerate(lines, start=1):
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail") or {}
            line["SalesItemLineDetail"] = detail
            amount = _line_amount(line, n)
            realm.resolve(_required_ref(detail, "ItemRef", "product/service of the line"), "Item", "ItemRef", horizon)
            for key, target in (("TaxCodeRef", "TaxCode"), ("ClassRef", "Class")):
                if isinstance(detail.get(key), dict):
                    realm.resolve(detail[key], target, key, horizon)
            qty, price = money(detail.get("Qty", 0), "Qty"), money(detail.get("UnitPrice", 0), "UnitPrice")
            # QBO checks Amount = Qty x UnitPrice only when both are given, non-zero
            if qty and price and cents(qty * price) != cents(amount):
                raise faults.business_validation(
                    f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", "Line.Amount"
                )
            subtotal += amount
        elif kind == "DiscountLineDetail":
            subtotal -= _line_amount(line, n)
        elif kind != "DescriptionOnly":
            raise faults.validation(
                "2170", "Invalid Enumeration", f"Line {n}: DetailType {kind!r} is not valid", "Line.DetailType"
            )
        line["Id"], line["LineNum"] = str(n), n
    for key, target in (("DepartmentRef", "Department"), ("ClassRef", "Class")):
        if isinstance(doc.get(key), dict):
            realm.resolve(doc[key], target, key, horizon)
    tax = doc.get("TxnTaxDetail") or {}
    if isinstance(tax.get("TxnTaxCodeRef"), dict):
        realm.resolve(tax["TxnTaxCodeRef"], "TaxCode", "TxnTaxDetail.TxnTaxCodeRef", horizon)
    total_tax = money(tax.get("TotalTax", Decimal("0")), "TxnTaxDetail.TotalTax")
    if tax:
        tax["TotalTax"] = total_tax
        doc["TxnTaxDetail"] = tax
    _doc_number(realm, doc, old)
    _text_limit(doc, "PrivateNote", PRIVATE_NOTE_MAX)
    memo = doc.get("CustomerMemo")
    if isinstance(memo, dict) and len(str(memo.get("value", ""))) > MEMO_MAX:
        raise faults.business_validation(f"CustomerMemo is longer than {MEMO_MAX} characters", "CustomerMemo")
    _blank_dates(doc, "TxnDate", "DueDate", "ShipDate")
    doc.setdefault("TxnDate", realm.today())
    doc.setdefault("DueDate", doc["TxnDate"])
    doc.setdefault("EmailStatus", "NotSet")
    doc["Line"] = [*lines, {"Amount": cents(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}]
    doc["TotalAmt"] = cents(subtotal + total_tax)
    doc["Balance"] = doc["TotalAmt"]  # Realm.apply_payments takes payments off


def _doc_number(realm: Realm, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
    number = doc.get("DocNumber")
    settings = realm.settings
    if number == "AUTO_GENERATE" or (not number and not settings.custom_transaction_numbers):
        number = realm.next_doc_number()  # Intuit: DocNumber: QBO numbers sales forms when asked to
    if not number:
        doc.pop("DocNumber", None)
        return
    number = str(number)
    if len(number) > DOC_NUMBER_MAX:
        raise faults.business_validation(f"DocNumber is longer than {DOC_NUMBER_MAX} characters", "DocNumber")
    doc["DocNumber"] = number
    if settings.duplicate_doc_number_check:
        for other in realm.objects["Invoice"].values():
            if (old is None or other["Id"] != old["Id"]) and other.get("DocNumber") == number:
                raise faults.duplicate_doc_number(number, "Invoice", other["Id"])


def _text_limit(doc: dict[str, Any], key: str, limit: int) -> None:
    if len(str(doc.get(key) or "")) > limit:
        raise faults.business_validation(f"{key} is longer than {limit} characters", key)


def prepare_payment(
    realm: Realm, entity: str, doc: dict[str, Any], old: dict[str, Any] | None, horizon: int | None
) -> None:
    customer = realm.resolve(_required_ref(doc, "CustomerRef"), "Customer", "CustomerRef", horizon)
    if doc.get("TotalAmt") in (None, ""):
        raise faults.required_param("TotalAmt")
    total = cents(money(doc["TotalAmt"], "TotalAmt"))
    applied = Decimal("0")
    for n, line in enumerate(doc.get("Line") or [], start=1):
        amount = cents(_line_amount(line, n))
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") != "Invoice":
                raise faults.validation(
                    "620", "Txn ID cannot be linked", f"Line {n}: only invoices can be paid here", "Line.LinkedTxn"
                )
            invoice = realm.resolve({"value": link.get("TxnId")}, "Invoice", "Line.LinkedTxn.TxnId", horizon)
            if invoice["CustomerRef"]["value"] != customer["Id"]:
                raise faults.business_validation(
                    f"Line {n}: invoice {invoice['Id']} belongs to another customer", "Line.LinkedTxn"
                )
            open_balance = realm.balance_before(invoice["Id"], exclude_payment=old["Id"] if old else None)
            if amount > open_balance:
                raise faults.business_validation(
                    f"Line {n}: {amount} is more than the open balance {open_balance} of invoice "
                    f"{invoice.get('DocNumber', invoice['Id'])}",
                    "Line.Amount",
                )
        line["Amount"] = amount
        applied += amount
    if applied > total:
        raise faults.business_validation("The amounts applied are more than the payment amount", "TotalAmt")
    if isinstance(doc.get("DepositToAccountRef"), dict):
        realm.resolve(doc["DepositToAccountRef"], "Account", "DepositToAccountRef", horizon)
    doc["TotalAmt"] = total
    doc["UnappliedAmt"] = total - applied
    _blank_dates(doc, "TxnDate")
    doc.setdefault("TxnDate", realm.today())


Prepare = Callable[["Realm", str, dict[str, Any], dict[str, Any] | None, int | None], None]
PREPARE: dict[str, Prepare] = {
    **{e: prepare_person for e in PEOPLE},
    **{e: prepare_named for e in ("Item", "TaxCode", "Class", "Department", "Account")},
    "Invoice": prepare_invoice,
    "Payment": prepare_payment,
}
