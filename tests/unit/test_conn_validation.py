"""Validation before export: each problem type, hold_row vs hold_run, the error file."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledgerbridge.connectors import (
    build_labor,
    check_invoices,
    check_labor,
    check_purchase_orders,
    decide,
    error_file,
    error_file_key,
    invoice_rows,
    load_builtin,
    render_bytes,
)
from ledgerbridge.connectors.validation import ERROR_FILE_COLUMNS, Problem
from ledgerbridge.records import Invoice, LaborEntry, Ref
from tests.unit.test_conn_helpers import MAPPINGS, TZ, invoices, labor_entries, purchase_orders

NY = ZoneInfo(TZ)
ANA = Ref(id="t1", name="Ana Souza")
JOB = Ref(id="j1", name="Acme HQ")
MON = date(2024, 6, 3)


def at(hour: int, minute: int = 0, day: date = MON) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def entry(sid: str, start: datetime, end: datetime | None, emp: str = "104", tech: Ref = ANA) -> LaborEntry:
    return LaborEntry(source_id=sid, technician=tech, employee_number=emp, job=JOB, clock_in=start, clock_out=end)


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.source_id, p.code) for p in problems]


def changed(inv: Invoice, **kw: object) -> Invoice:
    return Invoice.model_validate(inv.model_dump() | kw)


# --- labor -------------------------------------------------------------------------------------------------


def test_clean_labor_has_no_problems() -> None:
    assert check_labor(labor_entries(), timezone=TZ) == []


def test_open_clock_in() -> None:
    (problem,) = check_labor([entry("e1", at(7, 5), None)], timezone=TZ)
    assert problem.code == "open_clock_in" and problem.record_type == "labor" and problem.source_id == "e1"
    assert problem.message == "clocked in at 2024-06-03 07:05 (America/New_York) with no clock-out"
    assert problem.label == "Time of Ana Souza on job Acme HQ from 2024-06-03 07:05"
    assert "clock-out" in problem.fix and problem.field == "clock_out"


def test_overlapping_entries_of_one_technician_flag_both() -> None:
    problems = check_labor(
        [
            entry("e1", at(8), at(12)),
            entry("e2", at(11), at(13)),
            entry("e3", at(12), at(14), tech=Ref(id="t2", name="Ben")),  # another technician: fine
            entry("e4", at(13), at(15)),  # touches e2's end: fine
        ],
        timezone=TZ,
    )
    assert sorted(codes(problems)) == [("e1", "overlap"), ("e2", "overlap")]
    by_id = {p.source_id: p for p in problems}
    assert by_id["e2"].message == "overlaps entry e1 on job Acme HQ (2024-06-03 08:00 to 2024-06-03 12:00)"


def test_an_entry_inside_a_long_one_overlaps_it() -> None:
    problems = check_labor(
        [entry("long", at(6), at(18)), entry("a", at(8), at(9)), entry("b", at(10), at(11))], timezone=TZ
    )
    assert sorted(codes(problems)) == [("a", "overlap"), ("b", "overlap"), ("long", "overlap"), ("long", "overlap")]


def test_more_than_24_hours_in_a_local_day() -> None:
    next_day = MON + timedelta(days=1)
    problems = check_labor(
        [entry("e1", at(0), at(0, day=next_day)), entry("e2", at(0, day=next_day) - timedelta(hours=2), at(23))],
        timezone=TZ,
    )
    assert ("e1", "over_24_hours") in codes(problems) and ("e2", "over_24_hours") in codes(problems)
    over = next(p for p in problems if p.code == "over_24_hours")
    assert over.message == "the technician has 25.00 hours on 2024-06-03, more than 24"


def test_a_25_hour_fall_back_day_is_flagged_but_a_long_shift_across_days_is_not() -> None:
    fall = date(2024, 11, 3)
    problems = check_labor([entry("e1", at(0, day=fall), at(0, day=fall + timedelta(days=1)))], timezone=TZ)
    assert codes(problems) == [("e1", "over_24_hours")]
    shift = check_labor([entry("e2", at(12), at(12, day=MON + timedelta(days=1)))], timezone=TZ)
    assert shift == []


def test_technician_without_employee_number() -> None:
    (problem,) = check_labor([entry("e1", at(8), at(9), emp="")], timezone=TZ)
    assert problem.code == "no_employee_number" and problem.message == "technician Ana Souza has no employee number"
    assert "employee number" in problem.fix


# --- invoices ------------------------------------------------------------------------------------------------


def test_clean_invoices_have_no_problems() -> None:
    assert (
        check_invoices(
            invoices(), customer_ids=MAPPINGS.customers, known_tax_codes={"NCSALES"}, tax_codes=MAPPINGS.tax_codes
        )
        == []
    )


def test_lines_that_do_not_add_up_to_the_subtotal() -> None:
    bad = changed(invoices()[0], subtotal=Decimal("500.00"), total=Decimal("536.21"))
    (problem,) = check_invoices([bad])
    assert problem.code == "lines_mismatch" and problem.source_id == "i1"
    assert problem.message == "its 2 lines add up to 499.50 but the subtotal is 500.00"
    assert problem.label == "Invoice 1001 (Acme Mechanical)"


def test_subtotal_plus_tax_that_is_not_the_total() -> None:
    bad = changed(invoices()[0], total=Decimal("535.70"))
    (problem,) = check_invoices([bad])
    assert problem.code == "total_mismatch"
    assert problem.message == "subtotal 499.50 + tax 36.21 = 535.71, but the total is 535.70"


def test_sub_cent_differences_are_judged_as_the_file_rounds_them() -> None:
    inv = changed(invoices()[0], subtotal=Decimal("499.501"), total=Decimal("535.711"))
    assert check_invoices([inv]) == []


def test_customer_without_an_external_id() -> None:
    problems = check_invoices(invoices(), customer_ids={"c1": "ACME01", "c2": ""}, target="Sage 300 CRE")
    assert codes(problems) == [("i2", "customer_unmapped"), ("i3", "customer_unmapped")]
    assert problems[1].message == "customer 'Northwind Property Trust' (id c3) has no id in Sage 300 CRE"
    assert "External ID" in problems[1].fix


def test_unknown_tax_code() -> None:
    problems = check_invoices(invoices(), known_tax_codes={"SC"}, tax_codes=MAPPINGS.tax_codes)
    assert codes(problems) == [("i1", "unknown_tax_code")]
    assert problems[0].message == "tax group 'NC' maps to tax code 'NCSALES', which the accounting system does not have"
    assert check_invoices(invoices(), known_tax_codes={"NC"}) == []  # unmapped groups are their own code


def test_purchase_order_lines_must_add_up() -> None:
    orders = purchase_orders()
    assert check_purchase_orders(orders) == []
    bad = orders[0].model_copy(update={"total": Decimal("1")})
    assert codes(check_purchase_orders([bad])) == [("p1", "lines_mismatch")]


# --- policy and error file -----------------------------------------------------------------------------------


def test_hold_row_drops_only_the_bad_records() -> None:
    problems = check_invoices(invoices(), customer_ids={"c1": "ACME01", "c2": "ZOE"})
    decision = decide(problems, "hold_row")
    assert not decision.run_held
    kept = list(decision.keep(invoices()))
    assert [i.number for i in kept] == ["1001", "1002"]
    data = render_bytes(load_builtin("sage300cre", "ar_invoices"), invoice_rows(kept, MAPPINGS))
    assert data.count(b'"I"') == 2


def test_hold_run_holds_everything() -> None:
    problems = check_invoices(invoices(), customer_ids={"c1": "ACME01", "c2": "ZOE"})
    decision = decide(problems, "hold_run")
    assert decision.run_held and list(decision.keep(invoices())) == []
    assert decide([], "hold_run").run_held is False


def test_hold_row_for_labor_drops_the_bad_entries_before_building() -> None:
    entries = [entry("ok", at(8), at(9)), entry("open", at(10), None), entry("noemp", at(11), at(12), emp="")]
    decision = decide(check_labor(entries, timezone=TZ), "hold_row")
    kept = list(decision.keep(entries))
    assert [e.source_id for e in kept] == ["ok"]
    rows = build_labor(kept, timezone=TZ, period_start=MON, period_end=MON)
    assert [r.entry_ids for r in rows] == [("ok",)]


def test_error_file() -> None:
    bad = changed(invoices()[0], total=Decimal("1"))
    problems = check_invoices([bad, *invoices()[1:]], customer_ids={"c1": "A", "c2": "Z", "c3": "N"})
    problems += check_labor([entry("e1", at(8), None)], timezone=TZ)
    problems.append(Problem("invoice", "i9", '=HYPERLINK("x")', "x", "line\nbreak", "fix, it"))
    data = error_file(problems)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == ERROR_FILE_COLUMNS
    assert rows[1] == [
        "invoice",
        "i1",
        "Invoice 1001 (Acme Mechanical)",
        "total_mismatch",
        "subtotal 499.50 + tax 36.21 = 535.71, but the total is 1.00",
        "Re-save the invoice on the platform so its total is recalculated, then export again",
        "total",
    ]
    assert rows[2][:4] == ["labor", "e1", "Time of Ana Souza on job Acme HQ from 2024-06-03 08:00", "open_clock_in"]
    assert rows[3] == ["invoice", "i9", '\'=HYPERLINK("x")', "x", "line break", "fix, it", ""]
    assert len(rows) == 4


def test_error_file_sits_beside_the_export() -> None:
    assert (
        error_file_key("t1/sage300cre/labor_hours/2024-06-03/r1.csv")
        == "t1/sage300cre/labor_hours/2024-06-03/r1.errors.csv"
    )
    assert error_file_key("r1") == "r1.errors.csv"
