"""The console through its handler: sign-in, sessions, CSRF, tenant isolation, retry, replay, exports."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote, urlencode

from ledgerbridge.console import sessions
from ledgerbridge.jobs import SyncJob
from ledgerbridge.queues import FifoMessage, send_fifo
from ledgerbridge.state import synclog
from ledgerbridge.state import tenants as tenant_store
from tests.helpers import call_api, drain, make_tenant

HOST = {"Host": "127.0.0.1:8080"}


def sign_in(tenant_id: str) -> tuple[dict[str, str], str]:
    """(headers with the session cookie, the CSRF token of its forms)."""
    credential = tenant_store.issue_credential(tenant_id, "console")
    status, headers, _ = call_api("POST", "/console/login", body=f"credential={credential}", headers=HOST)
    assert status == 303, status
    cookie = headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/console"):
        assert attribute in cookie
    jar = {**HOST, "Cookie": cookie.split(";")[0]}
    _, _, page = call_api("GET", "/console/activity", headers=jar)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert token is not None
    return jar, token.group(1)


def failed_entry(tenant_id: str, source_id: str = "1001") -> str:
    synclog.write(
        synclog.LogEntry(
            tenant_id,
            "qbo",
            "invoice",
            source_id,
            "failed",
            "Invalid reference: tax code (code 6000). What to fix: map tax group 'Wake County'",
        )
    )
    page, _ = synclog.page(tenant_id, synclog.Filters(outcome="failed"), size=1)
    return page[0][0]


def test_sign_in_refuses_other_purposes_and_pages_need_a_session(aws: Any) -> None:
    make_tenant("acme-fire")
    files = tenant_store.issue_credential("acme-fire", "files")
    status, _, body = call_api("POST", "/console/login", body=f"credential={files}", headers=HOST)
    assert status == 401 and "not accepted" in body
    status, headers, _ = call_api("GET", "/console/activity", headers=HOST)
    assert status == 303 and headers["Location"] == "/console"
    status, _, body = call_api("GET", "/console", headers=HOST)
    assert status == 200 and 'for="credential"' in body


def test_one_time_link_works_once(aws: Any) -> None:
    make_tenant("acme-fire")
    token = sessions.issue_link("acme-fire")
    status, headers, _ = call_api("GET", "/console/signin", query={"token": token}, headers=HOST)
    assert status == 303 and "lb_console=acme-fire." in headers["Set-Cookie"]
    status, _, body = call_api("GET", "/console/signin", query={"token": token}, headers=HOST)
    assert status == 401 and "already used" in body


def test_activity_shows_the_hint_and_retry_redrives_once(aws: Any) -> None:
    make_tenant("acme-fire")  # no platform credentials: the invoice cannot be reopened, so use a customer
    message = "Duplicate Name Exists Error. What to fix: rename it"
    synclog.write(synclog.LogEntry("acme-fire", "qbo", "customer", "77", "failed", message))
    jar, csrf = sign_in("acme-fire")
    status, headers, page = call_api("GET", "/console/activity", query={"outcome": "failed"}, headers=jar)
    assert status == 200 and "What to fix: " in page and "rename it" in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    key = re.search(r'name="entry" value="([^"]+)"', page)
    assert key is not None
    form = urlencode({"csrf": csrf, "entry": html.unescape(key.group(1))})
    assert call_api("POST", "/console/activity/retry", body=form, headers=jar)[0] == 303
    assert call_api("POST", "/console/activity/retry", body=form, headers=jar)[0] == 303  # a double click
    _, _, after = call_api("GET", "/console/activity", query={"notice": "retried"}, headers=jar)
    assert "The record was sent again" in after and "retry requested from the console" in after
    jobs = [SyncJob.model_validate_json(m["Body"]) for m in drain(aws.queue_url("QboSyncQueue"))]
    assert [(j.entity, j.source_id, j.trigger) for j in jobs] == [("customer", "77", "manual")]


def test_posts_need_the_csrf_token_and_our_origin(aws: Any) -> None:
    make_tenant("acme-fire")
    key = failed_entry("acme-fire")
    jar, csrf = sign_in("acme-fire")
    assert call_api("POST", "/console/activity/retry", body=urlencode({"entry": key}), headers=jar)[0] == 403
    evil = {**jar, "Origin": "https://evil.example"}
    form = urlencode({"csrf": csrf, "entry": key})
    assert call_api("POST", "/console/activity/retry", body=form, headers=evil)[0] == 403
    assert drain(aws.queue_url("QboSyncQueue")) == []


def test_a_session_never_reaches_another_tenant(aws: Any) -> None:
    make_tenant("acme-fire")
    make_tenant("other-co")
    theirs = failed_entry("other-co", "other-co-invoice")
    jar, csrf = sign_in("acme-fire")
    _, _, page = call_api("GET", "/console/activity", headers=jar)
    # Their record, by its id and its entry key, is nowhere on our page (a bare number could be in a token).
    assert "other-co-invoice" not in page and html.escape(theirs) not in page and "Wake County" not in page
    form = urlencode({"csrf": csrf, "entry": theirs})
    status, _, _ = call_api("POST", "/console/activity/retry", body=form, headers=jar)
    assert status == 400
    assert drain(aws.queue_url("QboSyncQueue")) == []


def _dead(aws: Any, tenant_id: str, source_id: str) -> None:
    job = SyncJob.model_validate(
        {
            "tenant_id": tenant_id,
            "target": "qbo",
            "entity": "customer",
            "source_id": source_id,
            "event_id": f"evt-{source_id}",
            "occurred_at": "2025-11-17T08:00:00Z",
        }
    )
    send_fifo(aws.queue_url("QboSyncDLQ"), [FifoMessage(job.model_dump_json(), job.group_id, job.event_id)])


def test_dead_letters_are_listed_and_replayed_with_their_event_ids(aws: Any) -> None:
    make_tenant("acme-fire")
    make_tenant("other-co")
    _dead(aws, "acme-fire", "5")
    _dead(aws, "other-co", "6")
    jar, csrf = sign_in("acme-fire")
    _, _, page = call_api("GET", "/console/activity", headers=jar)
    assert "evt-5" in page and "evt-6" not in page
    assert call_api("POST", "/console/dead-letters/replay", body=f"csrf={csrf}", headers=jar)[0] == 303
    replayed = [SyncJob.model_validate_json(m["Body"]) for m in drain(aws.queue_url("QboSyncQueue"))]
    assert [j.event_id for j in replayed] == ["evt-5"]
    left = [SyncJob.model_validate_json(m["Body"]).tenant_id for m in drain(aws.queue_url("QboSyncDLQ"))]
    assert left == ["other-co"]


def test_every_page_renders_for_a_signed_in_tenant(aws: Any) -> None:
    make_tenant("acme-fire")
    jar, _ = sign_in("acme-fire")
    for path in (
        "/console/overview",
        "/console/activity",
        "/console/exports",
        "/console/reconciliation",
        "/console/dry-run",
    ):
        status, _, page = call_api("GET", path, headers=jar)
        assert status == 200, (path, page)
        assert page.startswith("<!doctype html>") and 'aria-current="page"' in page
        assert "lbk_" not in page
    status, headers, css = call_api("GET", "/console/console.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and ":focus-visible" in css


def test_admin_api_lists_and_replays_dead_letters_and_retries_failures(aws: Any) -> None:
    make_tenant("acme-fire")
    _dead(aws, "acme-fire", "8")
    status, _, body = call_api("GET", "/admin/tenants/acme-fire/dead-letters")
    assert status == 200 and [d["job"]["event_id"] for d in body["dead_letters"]] == ["evt-8"]
    status, _, body = call_api("POST", "/admin/tenants/acme-fire/dead-letters/replay", body={"message_ids": []})
    assert status == 200 and body == {"replayed": 1}
    assert [SyncJob.model_validate_json(m["Body"]).event_id for m in drain(aws.queue_url("QboSyncQueue"))] == ["evt-8"]
    synclog.write(synclog.LogEntry("acme-fire", "qbo", "customer", "3", "failed", "refused"))
    status, _, body = call_api("POST", "/admin/tenants/acme-fire/retry-failed", body={"since": "2020-01-01T00:00:00Z"})
    assert status == 200 and [j["source_id"] for j in body["retried"]] == ["3"]


def test_cli_prints_a_one_time_link(aws: Any, capsys: Any) -> None:
    from ledgerbridge.cli import main

    make_tenant("acme-fire")
    assert main(["console", "link", "--tenant", "acme-fire", "--api", "https://api.example.com/dev"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://api.example.com/dev/console/signin?token=acme-fire.")
    assert sessions.redeem_link(url.split("token=")[1]) is not None


def test_activity_pages_with_cursors_and_filters(aws: Any) -> None:
    make_tenant("acme-fire")
    for n in range(30):
        outcome = "failed" if n % 3 == 0 else "created"
        synclog.write(
            synclog.LogEntry(
                "acme-fire", "qbo", "invoice", f"inv-{n:02d}", outcome, f"m{n}", at=f"2025-11-17T08:{n:02d}:00+00:00"
            )
        )
    jar, _ = sign_in("acme-fire")
    _, _, first = call_api("GET", "/console/activity", headers=jar)
    assert "inv-29" in first and "inv-05" in first and "inv-04" not in first  # 25 newest
    after = re.search(r'href="/console/activity\?after=([^"]+)"', first)
    assert after is not None
    _, _, second = call_api(
        "GET",
        "/console/activity",
        query={"after": unquote(html.unescape(after.group(1)))},
        headers=jar,
    )
    assert "inv-04" in second and "inv-00" in second and "inv-05" not in second
    _, _, failed = call_api("GET", "/console/activity", query={"outcome": "failed"}, headers=jar)
    assert failed.count('name="entry"') == 10 and "inv-01" not in failed
