"""The console's pages: data in, HTML out (no I/O). Every value goes through html.h, forms that change
anything carry the session's CSRF token, every control has a label, and the nav marks the current page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledgerbridge.console.activity import split_hint
from ledgerbridge.console.html import Markup, join, table, tag, url
from ledgerbridge.console.overview import Overview
from ledgerbridge.console.reconcile import Report
from ledgerbridge.console.replay import DeadLetter
from ledgerbridge.state.exports import Manifest
from ledgerbridge.state.synclog import Filters, LogEntry

PAGES = [
    ("overview", "Overview"),
    ("activity", "Activity"),
    ("exports", "Exports"),
    ("reconciliation", "Reconciliation"),
    ("dry-run", "Dry run"),
]
OUTCOMES = ["created", "updated", "skipped", "failed", "retrying", "recorded"]
ENTITIES = ["invoice", "customer", "payment"]
NOTICES = {
    "retried": "The record was sent again. Its new outcome appears here once the sync has run.",
    "retried-all": "Every failed record since that time was sent again.",
    "replayed": "The dead-letter messages were sent back to their queue with their original event ids.",
    "confirm-partial": "Confirmed in part: a confirm marks a few hundred invoices at a time. Press Confirm import "
    "again to go on where it stopped.",
    "confirmed": "Import confirmed: those invoices are marked processed and will not be exported again.",
    "connected": "Connected: the accounting system accepted the connection.",
    "connect-refused": "Not connected: the consent was declined or could not be confirmed. Try Connect again.",
    "connect-taken": "Not connected: that company is already connected to another LedgerBridge account.",
    "connect-failed": "Not connected: the accounting system could not be reached or refused. Try again shortly.",
}


@dataclass(frozen=True)
class Ctx:
    base: str  # the console's path prefix, e.g. /console (or /dev/console behind an API Gateway stage)
    csrf: str
    tenant_name: str
    targets: Sequence[tuple[str, str]]  # (name, label) of the tenant's integrations
    notice: str = ""


def document(title: str, body: Markup, base: str, header: Markup | None = None) -> str:
    return "<!doctype html>" + tag(
        "html",
        tag(
            "head",
            tag("meta", charset="utf-8"),
            tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
            tag("title", f"{title} · LedgerBridge"),
            tag("link", rel="stylesheet", href=f"{base}/console.css"),
        ),
        tag(
            "body", tag("a", "Skip to content", href="#main", class_="skip"), header or "", tag("main", body, id="main")
        ),
        lang="en",
    )


def csrf_field(ctx: Ctx) -> Markup:
    return tag("input", type="hidden", name="csrf", value=ctx.csrf)


def post_button(ctx: Ctx, action: str, label: str, secondary: bool = False, **fields: str) -> Markup:
    hidden = [tag("input", type="hidden", name=k, value=v) for k, v in fields.items()]
    button = tag("button", label, type="submit", class_="secondary" if secondary else None)
    return tag("form", csrf_field(ctx), *hidden, button, method="post", action=action, class_="inline")


def page(ctx: Ctx, current: str, title: str, *content: object) -> str:
    links = [
        tag("li", tag("a", label, href=f"{ctx.base}/{slug}", aria_current="page" if slug == current else None))
        for slug, label in PAGES
    ]
    header = tag(
        "header",
        tag("span", "LedgerBridge", class_="brand"),
        tag("span", ctx.tenant_name),
        tag("nav", tag("ul", *links), aria_label="Console"),
        post_button(ctx, f"{ctx.base}/logout", "Sign out", secondary=True),
    )
    failed = ctx.notice.startswith("connect-")  # a connect that did not go through is news to act on
    notice = (
        tag("p", NOTICES[ctx.notice], class_="error" if failed else "notice", role="alert" if failed else "status")
        if ctx.notice in NOTICES
        else ""
    )
    return document(title, join([tag("h1", title), notice, *content]), ctx.base, header)


def badge(value: str) -> Markup:
    return tag("span", value.replace("_", " "), class_=f"badge {value}")


# ---------------------------------------------------------------------------------------------- sign in
def login(base: str, error: str = "") -> str:
    form = tag(
        "form",
        tag("label", "Console credential", for_="credential"),
        tag(
            "input",
            id="credential",
            name="credential",
            type="password",
            required=True,
            autocomplete="off",
            aria_describedby="credential-help",
        ),
        tag(
            "p",
            "The credential your administrator issued for the console (it starts with lbk_).",
            id="credential-help",
            class_="empty",
        ),
        tag("button", "Sign in", type="submit"),
        method="post",
        action=f"{base}/login",
    )
    alert = tag("p", error, class_="error", role="alert") if error else ""
    body = tag("section", tag("h1", "Sign in to LedgerBridge"), alert, form, class_="card login")
    return document("Sign in", body, base)


def message(base: str, title: str, text: str, link: str = "") -> str:
    back = tag("p", tag("a", "Back to the console", href=link)) if link else ""
    return document(title, join([tag("h1", title), tag("p", text, class_="error", role="alert"), back]), base)


# ---------------------------------------------------------------------------------------------- overview
def overview(ctx: Ctx, data: Overview) -> str:
    cards = []
    for c in data.connections:
        s = c.summary
        action = (
            tag("a", s.connect_label, href=f"{ctx.base}/connect/{c.target}", class_="button") if s.connect_label else ""
        )
        facts = tag("dl", *(tag("div", tag("dt", k), tag("dd", v)) for k, v in s.facts)) if s.facts else ""
        cards.append(tag("div", tag("h2", c.label), tag("p", badge(s.state)), tag("p", s.detail), facts, action))
    if not cards:
        cards.append(tag("div", tag("h2", "Integrations"), tag("p", "No accounting integration is set up.")))
    exports = table(
        "Next scheduled exports",
        ["Connector", "Connections", "Next run (UTC)", "Period"],
        (
            [
                e.connector,
                ", ".join(e.connections),
                e.at.strftime("%Y-%m-%d %H:%M") if e.at else "not scheduled",
                e.period,
            ]
            for e in data.exports
        ),
        "No file export is scheduled.",
    )
    counts = tag(
        "dl",
        *(join([tag("dt", o), tag("dd", str(data.last_day.get(o, 0)))]) for o in OUTCOMES if o != "recorded"),
        class_="kv",
    )
    failed = data.last_day.get("failed", 0)
    to_failed = tag("a", "See the failed records", href=url(f"{ctx.base}/activity", outcome="failed")) if failed else ""
    return page(
        ctx,
        "overview",
        "Overview",
        tag("h2", "Connections"),
        tag("div", *cards, class_="cards"),
        tag("h2", "Last 24 hours"),
        tag("section", counts, to_failed, class_="card"),
        tag("h2", "Exports"),
        exports,
    )


# ---------------------------------------------------------------------------------------------- activity
def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> Markup:
    opts = [tag("option", "any", value="")] + [
        tag("option", text, value=value, selected=value == chosen) for value, text in options
    ]
    return tag("div", tag("label", label, for_=f"f-{name}"), tag("select", *opts, id=f"f-{name}", name=name))


def _entry_cells(ctx: Ctx, sort_key: str, e: LogEntry) -> list[object]:
    text, hint = split_hint(e.message)
    detail = join([tag("div", text), tag("p", "What to fix: ", hint, class_="hint") if hint else ""])
    action: object = ""
    if e.outcome == "failed":
        action = post_button(ctx, f"{ctx.base}/activity/retry", "Retry", entry=sort_key)
    label = dict(ctx.targets).get(e.target, e.target)
    return [e.at[:19].replace("T", " "), label, f"{e.entity} {e.source_id}", badge(e.outcome), detail, action]


def activity(
    ctx: Ctx,
    filters: Filters,
    entries: Sequence[tuple[str, LogEntry]],
    after: str,
    next_after: str,
    dead: Sequence[DeadLetter],
) -> str:
    form = tag(
        "form",
        _select("outcome", "Outcome", [(o, o) for o in OUTCOMES], filters.outcome),
        _select("target", "Target", list(ctx.targets), filters.target),
        _select("entity", "Record type", [(e, e) for e in ENTITIES], filters.entity),
        tag("div", tag("button", "Filter", type="submit")),
        method="get",
        action=f"{ctx.base}/activity",
        class_="filters",
        aria_label="Filter the sync log",
    )
    log = table(
        "Sync log, newest first",
        ["When (UTC)", "Target", "Record", "Outcome", "Message", "Action"],
        (_entry_cells(ctx, key, e) for key, e in entries),
        "Nothing matches these filters.",
    )
    keep = {"outcome": filters.outcome, "target": filters.target, "entity": filters.entity}
    pager = tag(
        "nav",
        tag("a", "Newest", href=url(f"{ctx.base}/activity", **keep)) if after else "",
        tag("a", "Older entries", href=url(f"{ctx.base}/activity", **keep, after=next_after)) if next_after else "",
        class_="pager",
        aria_label="Pages",
    )
    bulk = tag(
        "form",
        csrf_field(ctx),
        tag(
            "div",
            tag("label", "Failed since (UTC)", for_="since"),
            tag("input", id="since", name="since", type="datetime-local", required=True),
        ),
        tag("div", tag("button", "Retry all failed", type="submit")),
        method="post",
        action=f"{ctx.base}/activity/retry-failed",
        class_="filters",
    )
    dead_rows = (
        [
            d.sent_at.replace("T", " ")[:19],
            dict(ctx.targets).get(d.job.target, d.job.target),
            f"{d.job.entity} {d.job.source_id}",
            str(d.receives),
            d.job.event_id,
            post_button(ctx, f"{ctx.base}/dead-letters/replay", "Replay", message_id=d.message_id),
        ]
        for d in dead
    )
    dead_table = table(
        "Dead-letter messages (gave up after repeated temporary errors)",
        ["First sent (UTC)", "Target", "Record", "Attempts", "Event id", "Action"],
        dead_rows,
        "No dead-letter messages.",
    )
    replay_all = post_button(ctx, f"{ctx.base}/dead-letters/replay", "Replay all") if dead else ""
    return page(
        ctx,
        "activity",
        "Activity",
        form,
        log,
        pager,
        tag("h2", "Retry every failed record since a time"),
        bulk,
        tag("h2", "Dead letters"),
        dead_table,
        replay_all,
    )


# ---------------------------------------------------------------------------------------------- exports
def _export_cells(ctx: Ctx, m: Manifest) -> list[object]:
    links: list[object] = []
    download = f"{ctx.base}/exports/{m.export_id}/download"
    if m.key:
        links.append(tag("a", "Download file", href=download))
    if m.error_key:
        links.append(tag("a", "Download problems", href=url(download, part="errors")))
    if m.status == "ready":
        links.append(post_button(ctx, f"{ctx.base}/exports/{m.export_id}/confirm", "Confirm import"))
    totals = join(tag("div", f"{name}: {value}") for name, value in m.totals.items())
    problems = join(tag("div", f"{p.get('record', '')}: {p.get('message', '')}") for p in m.problems[:3])
    more = f"{m.problem_count} problem(s)" if m.problem_count else "none"
    return [
        f"{m.connector} {m.connection}",
        m.period,
        badge(m.status),
        f"{m.records} records, {m.rows} rows" + (f", {m.held_records} held" if m.held_records else ""),
        totals,
        join([tag("div", more), problems]),
        join(tag("div", link) for link in links),
    ]


def exports(ctx: Ctx, manifests: Sequence[Manifest]) -> str:
    listing = table(
        "Export runs, newest period first",
        ["Export", "Period", "Status", "Records", "Totals", "Validation problems", "Files"],
        (_export_cells(ctx, m) for m in manifests),
        "No export has run yet.",
    )
    return page(ctx, "exports", "Exports", listing)


# ---------------------------------------------------------------------------------------------- reconciliation
def _target_select(ctx: Ctx, chosen: str) -> Markup:
    options = [tag("option", label, value=name, selected=name == chosen) for name, label in ctx.targets]
    return tag(
        "div", tag("label", "Accounting system", for_="target"), tag("select", *options, id="target", name="target")
    )


def _money(value: Any) -> str:
    return "" if value is None or value == "" else f"{value:,.2f}"


def _target_form(ctx: Ctx, target: str, slug: str, field: tuple[str, str, str], button: str) -> Markup:
    """A GET form: the accounting system, one text field (name, label, value) and a submit button."""
    name, label, value = field
    return tag(
        "form",
        _target_select(ctx, target),
        tag("div", tag("label", label, for_=name), tag("input", id=name, name=name, value=value, required=True)),
        tag("div", tag("button", button, type="submit")),
        method="get",
        action=f"{ctx.base}/{slug}",
        class_="filters",
    )


def reconciliation(ctx: Ctx, target: str, period: str, report: Report | None, error: str = "") -> str:
    period_field = ("period", "Period (2025-11, 2025-W47 or a day)", period)
    form = _target_form(ctx, target, "reconciliation", period_field, "Reconcile")
    parts: list[object] = [form]
    if error:
        parts.append(tag("p", error, class_="error", role="alert"))
    reading = report.reading if report is not None else None
    if reading is not None and (reading.note or reading.as_of):
        as_of = f"The ledger as it was at {reading.as_of[:16]}Z. " if reading.as_of else ""
        parts.append(tag("p", as_of + reading.note, class_="hint", role="status"))
    if report is not None and not report.reading.pending:
        rows = report.rows
        differ = sum(1 for r in rows if not r.matched)
        parts.append(
            tag(
                "p",
                f"{len(rows)} invoices compared; {differ} with differences. ",
                tag("a", "Download CSV", href=url(f"{ctx.base}/reconciliation.csv", target=target, period=period)),
            )
        )
        cells = (
            [
                r.number,
                r.customer,
                r.platform_status.replace("_", " "),
                _money(r.platform_total),
                _money(r.platform_tax),
                r.ledger.number if r.ledger else "",
                _money(r.ledger.total if r.ledger else None),
                _money(r.ledger.tax if r.ledger else None),
                _money(r.ledger.balance if r.ledger else None),
                badge("match" if r.matched else "differs"),
                join(tag("div", d) for d in r.differences),
            ]
            for r in sorted(rows, key=lambda r: (r.matched, r.number))
        )
        parts.append(
            table(
                "Platform invoices against the ledger, differences first",
                [
                    "Number",
                    "Customer",
                    "Platform status",
                    "Platform total",
                    "Platform tax",
                    "Ledger number",
                    "Ledger total",
                    "Ledger tax",
                    "Ledger balance",
                    "Result",
                    "Differences",
                ],
                cells,
                "No invoice of this period has been sent to accounting.",
            )
        )
    return page(ctx, "reconciliation", "Reconciliation", *parts)


# ---------------------------------------------------------------------------------------------- dry run
def dry_run(ctx: Ctx, target: str, ids: str, plan: list[dict[str, Any]] | None, error: str = "") -> str:
    ids_field = ("invoice_ids", "Platform invoice ids (comma separated)", ids)
    form = _target_form(ctx, target, "dry-run", ids_field, "Show what would change")
    parts: list[object] = [form]
    if error:
        parts.append(tag("p", error, class_="error", role="alert"))
    for record in plan or []:
        for step in record["steps"]:
            title = f"{step['entity']} {step['source_id']}: {step['action']}"
            if step["target_id"]:
                title += f" (ledger id {step['target_id']})"
            changes = table(
                f"Field changes of {step['entity']} {step['source_id']}",
                ["Field", "Now", "After the sync"],
                ([c["path"], "" if c["before"] is None else c["before"], c["after"]] for c in step["changes"]),
                step["reason"] or "No field would change.",
            )
            parts.append(tag("section", tag("h2", title), changes, class_="card"))
    if plan is not None:
        parts.append(tag("p", "Nothing was written: a dry run only reads.", class_="empty"))
    return page(ctx, "dry-run", "Dry run", *parts)
