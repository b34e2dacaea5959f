"""Every built-in layout renders the canonical records to exactly the bytes in tests/golden/.

After an intended change, regenerate with `LEDGERBRIDGE_UPDATE_GOLDEN=1 pytest tests/unit/test_conn_golden.py`
and read the diff line by line against docs/connectors.md before committing it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.connectors import (
    RenderSummary,
    Row,
    build_labor,
    builtin_names,
    direct_cost_rows,
    invoice_rows,
    labor_rows,
    load_builtin,
    purchase_order_rows,
    render,
    render_bytes,
    validate_layout,
)
from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.tenants import OvertimeRule
from tests.unit.test_conn_helpers import (
    LABOR_PERIOD,
    MAPPINGS,
    RUN,
    TZ,
    direct_costs,
    invoices,
    labor_entries,
    purchase_orders,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("LEDGERBRIDGE_UPDATE_GOLDEN") == "1"
BUILTINS = builtin_names()


def rows_for(connection: str) -> Iterator[Row]:
    if connection == "ar_invoices":
        return invoice_rows(invoices(), MAPPINGS, RUN)
    if connection == "purchase_orders":
        return purchase_order_rows(purchase_orders(), MAPPINGS, RUN)
    if connection == "direct_costs":
        return direct_cost_rows(direct_costs(), MAPPINGS, RUN)
    start, end = LABOR_PERIOD
    labor = build_labor(
        labor_entries(),
        timezone=TZ,
        period_start=start,
        period_end=end,
        overtime=OvertimeRule(daily_hours=8, weekly_hours=40),
        job_numbers=MAPPINGS.jobs,
    )
    return labor_rows(labor, RUN)


def golden_path(connector: str, connection: str, variant: str) -> Path:
    return GOLDEN / (".".join(p for p in (connector, connection, variant) if p) + ".csv")


def test_every_connection_has_a_builtin_for_every_connector() -> None:
    have = {(c, n) for c, n, v in BUILTINS if not v}
    for connection in ("ar_invoices", "labor_hours", "purchase_orders", "direct_costs"):
        assert ("csv", connection) in have
    for connector, connection in [
        ("sage300cre", "ar_invoices"),
        ("sage300cre", "labor_hours"),
        ("sage300cre", "purchase_orders"),
        ("sage300cre", "direct_costs"),
        ("computerease", "ar_invoices"),
        ("computerease", "labor_hours"),
    ]:
        assert (connector, connection) in have
    assert ("sage300cre", "direct_costs", "job_cost") in BUILTINS


@pytest.mark.parametrize(("connector", "connection", "variant"), BUILTINS)
def test_golden(connector: str, connection: str, variant: str) -> None:
    layout = load_builtin(connector, connection, variant)
    summary = RenderSummary()
    data = render_bytes(layout, rows_for(connection), summary)
    path = golden_path(connector, connection, variant)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"no golden file {path.name}: run with LEDGERBRIDGE_UPDATE_GOLDEN=1"
    assert data == path.read_bytes()
    assert summary.problems == []
    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert summary.bytes == len(data)


@pytest.mark.parametrize(("connector", "connection", "variant"), BUILTINS)
def test_streaming_in_small_chunks_gives_the_same_bytes(connector: str, connection: str, variant: str) -> None:
    layout = load_builtin(connector, connection, variant)
    whole = render_bytes(layout, rows_for(connection))
    summary = RenderSummary()
    chunks = list(render(layout, rows_for(connection), summary, chunk_rows=1))
    assert len(chunks) > 1
    assert b"".join(chunks) == whole
    assert summary.sha256 == hashlib.sha256(whole).hexdigest()


@pytest.mark.parametrize(("connector", "connection", "variant"), BUILTINS)
def test_rendering_twice_gives_identical_bytes(connector: str, connection: str, variant: str) -> None:
    first = render_bytes(load_builtin(connector, connection, variant), rows_for(connection))
    second = render_bytes(load_builtin(connector, connection, variant), rows_for(connection))
    assert first == second


def test_golden_files_have_no_strays() -> None:
    expected = {golden_path(*name).name for name in BUILTINS}
    assert {p.name for p in GOLDEN.glob("*.csv")} == expected


def test_summary_rows_and_totals_match_the_file() -> None:
    summary = RenderSummary()
    data = render_bytes(load_builtin("sage300cre", "ar_invoices"), rows_for("ar_invoices"), summary)
    lines = data.decode("cp1252").splitlines()
    assert summary.rows == len(lines) == 9
    assert summary.documents == 3
    assert dict(summary.rows_by_record) == {"I": 3, "D": 6}
    assert summary.totals == {
        "I.amount": Decimal("1245.71"),
        "I.sales_tax": Decimal("36.21"),
        "D.amount": Decimal("1209.50"),
    }
    manifest = summary.manifest()
    assert manifest["totals"]["D.amount"] == "1209.50"
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()


def test_sage_payroll_example_line_is_reproduced() -> None:
    """Sage's published example line, from the built-in layout with the example's settings filled in."""
    custom = load_builtin("sage300cre", "labor_hours").model_dump()
    custom["params"] = {"cost_code": "1-065", "certified": "N", "wc_code": "5140"}
    by_name = {f["name"]: f for f in custom["records"][0]["fields"]}
    by_name["union"]["value"] = "MASONS"
    by_name["union_local"]["value"] = "555"
    by_name["union_class"]["value"] = "J"
    by_name["rate"]["source"] = "15.85"
    by_name["amount"] |= {"source": "63.40", "trim_zeros": True}
    layout = validate_layout(custom)
    row = LaborRow(date(2015, 5, 25), "104", "t", "T", "j", "03-003", "03-003", "regular", Decimal(4))
    data = render_bytes(layout, labor_rows([row]))
    assert data == b"5/25/2015,104,03-003,,1-065,N,MASONS,555,J,REG,4,15.85,63.4,5140\r\n"
