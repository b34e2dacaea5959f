"""Connectors: file formats, pure. Records in, bytes out (sage300cre, computerease, csv).

    layout = load_builtin("sage300cre", "labor_hours")          # or validate_layout(tenant_json)
    problems = check_labor(entries, timezone=tz)
    decision = decide(problems, settings.on_problem)
    labor = build_labor(decision.keep(entries), timezone=tz, period_start=.., period_end=.., overtime=..)
    summary = RenderSummary()
    for chunk in render(layout, labor_rows(labor, run), summary): upload(chunk)
    error_file(decision.problems + summary.problems)            # beside the export: error_file_key(key)

Modules: layout (the model), expr (the expression language), cells (one value -> one cell), compiler
(layout -> renderers, checks), render (streaming + summary), rows (what paths read; rows from records),
labor (hours by day/job/pay type), validation (problems, policy, error file), builtin (shipped layouts).
"""

from ledgerbridge.connectors.builtin import builtin_names, load_builtin
from ledgerbridge.connectors.compiler import compile_layout, validate_layout
from ledgerbridge.connectors.labor import build_labor
from ledgerbridge.connectors.layout import Layout, LayoutError
from ledgerbridge.connectors.render import RenderSummary, render, render_bytes
from ledgerbridge.connectors.rows import (
    Mappings,
    Row,
    RunInfo,
    direct_cost_rows,
    invoice_rows,
    labor_rows,
    purchase_order_rows,
)
from ledgerbridge.connectors.validation import (
    Decision,
    Problem,
    check_invoices,
    check_labor,
    check_purchase_orders,
    decide,
    error_file,
    error_file_key,
)

__all__ = [
    "Decision",
    "Layout",
    "LayoutError",
    "Mappings",
    "Problem",
    "RenderSummary",
    "Row",
    "RunInfo",
    "build_labor",
    "builtin_names",
    "check_invoices",
    "check_labor",
    "check_purchase_orders",
    "compile_layout",
    "decide",
    "direct_cost_rows",
    "error_file",
    "error_file_key",
    "invoice_rows",
    "labor_rows",
    "load_builtin",
    "purchase_order_rows",
    "render",
    "render_bytes",
    "validate_layout",
]
