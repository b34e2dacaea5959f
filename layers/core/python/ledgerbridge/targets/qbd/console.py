"""QuickBooks Desktop as the console shows it: the last Web Connector session and its result.

QuickBooks Desktop has no connection to check from here: it is "connected" when its Web Connector calls. The
card says when the last session ran, what it did (records sent, failed, left; requests in round trips) and how
it ended, with QuickBooks' own error text when it did not go through (tickets.last, recorded by the session).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledgerbridge.targets.base import TargetSummary
from ledgerbridge.targets.qbd import tickets
from ledgerbridge.tenants import Tenant

QUIET = timedelta(hours=48)  # no session for this long: the Web Connector is probably not running
NO_ERROR = ("", "No error")


def _minute(stamp: str) -> str:
    return f"{stamp[:16]}Z" if stamp else "unknown"


def result(summary: dict[str, object]) -> str:
    phases = summary.get("phases") or {}
    count = phases.get if isinstance(phases, dict) else (lambda _k, _d=0: 0)
    sent, failed, later = count("done", 0), count("failed", 0), count("later", 0)
    return (
        f"{sent} sent, {failed} failed, {later} left for the next run; "
        f"{summary.get('requests', 0)} requests in {summary.get('round_trips', 0)} round trips"
    )


def summary(tenant: Tenant, now: datetime | None = None) -> TargetSummary:
    now = now or datetime.now(UTC)
    last = tickets.last(tenant.tenant_id)
    refusal = tickets.last_refusal(tenant.tenant_id)
    if refusal is not None:
        at, why = refusal
        return TargetSummary(
            "attention",
            f"the Web Connector was turned away at {_minute(at)}: {why}",
            (("What to do", "enter the Web Connector credential your administrator issued as its password"),),
        )
    if last is None:
        return TargetSummary(
            "not_connected",
            "the Web Connector has not connected yet",
            (("What to do", "add LedgerBridge's .qwc file to the Web Connector on the QuickBooks computer"),),
        )
    done = last.summary
    error = str(done.get("last_error") or "")
    facts = [("Last session started", _minute(last.started))]
    if last.live:
        facts.append(("Last call", _minute(last.last_call)))
        return TargetSummary("connected", "a Web Connector session is running now", tuple(facts))
    if not last.ended:
        facts.append(("Last call", _minute(last.last_call)))
        if error not in NO_ERROR:
            facts.append(("Error", error))
        return TargetSummary(
            "attention", "the last Web Connector session stopped answering before it finished", tuple(facts)
        )
    facts += [("Ended", _minute(last.ended)), ("Result", result(done) if done else "not kept")]
    if error not in NO_ERROR:
        facts.append(("Error", error))
    phases = done.get("phases") or {}
    failed = isinstance(phases, dict) and phases.get("failed", 0)
    quiet = now - datetime.fromisoformat(last.ended) > QUIET
    if quiet:
        detail = f"no Web Connector session since {_minute(last.ended)}: is it running on the QuickBooks computer?"
    elif error not in NO_ERROR:
        detail = f"the last Web Connector session ended with an error: {error}"
    else:
        detail = f"last Web Connector session ended {_minute(last.ended)}"
    ok = not (quiet or failed or error not in NO_ERROR)
    return TargetSummary("connected" if ok else "attention", detail, tuple(facts))
