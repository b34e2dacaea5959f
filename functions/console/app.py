"""The console: server-rendered pages for a tenant's office admin and bookkeeper (docs/console.md).

GET  /console                                   sign-in form (or on to the Overview when signed in)
POST /console/login                             credential (purpose console) -> session cookie
GET  /console/signin?token=                     one-time sign-in link -> session cookie
POST /console/logout
GET  /console/console.css                       the stylesheet
GET  /console/overview                          connections, next exports, last 24 hours
GET  /console/connect/{target}                  302 to the target's consent screen
GET  /console/activity                          the sync log (?outcome, target, entity, after)
POST /console/activity/retry                    re-drive one failed record
POST /console/activity/retry-failed             re-drive every failed record since a time
POST /console/dead-letters/replay               dead letters back to their queue
GET  /console/exports                           export runs
GET  /console/exports/{export_id}/download      302 to a presigned GET (?part=errors)
POST /console/exports/{export_id}/confirm       confirm the import
GET  /console/reconciliation                    platform vs ledger for a period (?target, period)
GET  /console/reconciliation.csv                the same, as CSV
GET  /console/dry-run                           field diff of invoices before sending (?target, invoice_ids)

Every route but sign-in reads the tenant from the session and from nowhere else; every POST checks the
CSRF token and the Origin header. Errors are HTML pages, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import aws, config, files, queues, wiring
from ledgerbridge.config import FilesEnvironment, get_config
from ledgerbridge.console import activity, pages, reconcile, replay, sessions, targets
from ledgerbridge.console.overview import build as build_overview
from ledgerbridge.errors import InvalidInput, NotFound, PermanentError, TransientError
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import exports, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.tenants import Tenant

ENV = config.check(FilesEnvironment)  # cold start: a missing setting fails the init, by name
app = APIGatewayRestResolver(enable_validation=True)
FORM_MAX_BYTES = 8 * 1024
PAGE_SIZE = 25
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    # A one-time sign-in link never leaves in a Referer; "no-referrer" would also make forms send Origin: null.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
Text = Annotated[str, Query(max_length=100)]
TAGS = ["console"]


def _html(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


SIGN_IN_FIRST = _html("no session: redirect to the sign-in form (/console)")
PAGE: dict[int, OpenAPIResponse] = {200: _html("the page"), 303: SIGN_IN_FIRST, 400: _html("bad query")}
ACTION: dict[int, OpenAPIResponse] = {
    303: _html("done: redirect to the page that shows the result"),
    400: _html("the action cannot apply to this record"),
    401: _html("no session: sign in again"),
    403: _html("missing or wrong CSRF token, or a form from another site"),
}
REDIRECT: dict[int, OpenAPIResponse] = {
    302: _html("redirect (Location)"),
    303: SIGN_IN_FIRST,
    404: _html("no such thing"),
}


class Problem(Exception):
    """An HTML error page with a status."""

    def __init__(self, status: int, title: str, text: str) -> None:
        super().__init__(text)
        self.status, self.title, self.text = status, title, text


class SignInRequired(Exception):
    pass


# ---------------------------------------------------------------------------------------------- plumbing
def _base() -> str:
    """The console's path prefix: behind an execute-api host the stage is part of the path."""
    event = app.current_event
    host = {k.lower(): v for k, v in (event.headers or {}).items()}.get("host", "")
    return (f"/{event.request_context.stage}" if host.endswith(".amazonaws.com") else "") + "/console"


def _site() -> str:
    """scheme://host of this request, as a browser's Origin header names it."""
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    host = headers.get("host") or event.request_context.domain_name or "localhost"
    local = host.split(":")[0] in ("127.0.0.1", "localhost")
    proto = headers.get("x-forwarded-proto") or ("http" if local else "https")
    return f"{proto}://{host}"


def _origin() -> str:
    """This API's base URL: the site plus the stage prefix, if any."""
    return _site() + _base().removesuffix("/console")


def html(body: str, status: int = 200, cookie: str = "") -> Response[str]:
    headers = dict(SECURITY_HEADERS)
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=headers)


def redirect(location: str, cookie: str = "") -> Response[str]:
    headers = {**SECURITY_HEADERS, "Location": location}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(status_code=303, content_type="text/plain", body="", headers=headers)


def _session() -> sessions.Session:
    cookies = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}.get("cookie", "")
    session = sessions.current(cookies)
    if session is None:
        raise SignInRequired()
    logger.append_keys(tenant_id=session.tenant_id)
    return session


def _tenant(session: sessions.Session) -> Tenant:
    try:
        return tenant_store.load(session.tenant_id)
    except NotFound:
        raise SignInRequired() from None


def _form(session: sessions.Session | None) -> dict[str, str]:
    """The POSTed form; for a signed-in session its CSRF token must match, and a browser's Origin must be ours."""
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    origin = headers.get("origin", "")
    if origin and origin.rstrip("/") != _site():
        raise Problem(403, "Request refused", "This form was sent from another site.")
    raw = event.decoded_body or ""
    if len(raw.encode()) > FORM_MAX_BYTES:
        raise Problem(413, "Request refused", f"The form is larger than {FORM_MAX_BYTES} bytes.")
    form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=20).items()}
    if session is not None and not session.csrf_ok(form.get("csrf", "")):
        raise Problem(403, "Request refused", "This form has expired. Go back, reload the page and try again.")
    return form


@contextmanager
def _outside(what: str) -> Iterator[None]:
    """A refusal of the platform or the ledger becomes a page: 409 when it is final, 503 when it is not."""
    try:
        yield
    except PermanentError as exc:
        raise Problem(409, f"Cannot {what}", f"Refused: {exc}") from None
    except TransientError as exc:
        raise Problem(503, f"Cannot {what} now", f"A system is unavailable; try again shortly: {exc}") from None


def _posted() -> tuple[sessions.Session, dict[str, str], Tenant]:
    """The session, its checked form and its tenant: the start of every action."""
    session = _session()
    form = _form(session)
    return session, form, _tenant(session)


def _ctx(session: sessions.Session, tenant: Tenant, notice: str = "") -> pages.Ctx:
    names = [(t.name, t.label) for t in targets.for_tenant(tenant)]
    return pages.Ctx(_base(), session.csrf, tenant.name, names, notice)


def _notice() -> str:
    return str((app.current_event.query_string_parameters or {}).get("notice", ""))[:20]


@app.exception_handler(Problem)
def _problem(exc: Problem) -> Response[str]:
    return html(pages.message(_base(), exc.title, exc.text, _base()), exc.status)


@app.exception_handler(SignInRequired)
def _sign_in(_: SignInRequired) -> Response[str]:
    if app.current_event.http_method == "GET":
        return redirect(_base(), sessions.set_cookie(None, _base()))
    return html(pages.message(_base(), "Signed out", "Your session has ended: sign in again.", _base()), 401)


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[str]:
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
    return html(pages.message(_base(), "Bad request", f"{field or 'request'}: {first.get('msg', 'invalid')}"), 400)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("console error")
    return html(pages.message(_base(), "Something went wrong", "The request was not processed; try again."), 500)


# ---------------------------------------------------------------------------------------------- sign in
@app.get(
    "/console", tags=TAGS, responses={200: _html("the sign-in form"), 303: _html("already signed in: to the Overview")}
)
def home() -> Response[str]:
    cookies = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}.get("cookie", "")
    if sessions.current(cookies) is not None:
        return redirect(f"{_base()}/overview")
    return html(pages.login(_base()))


@app.post(
    "/console/login",
    tags=TAGS,
    responses={303: _html("signed in: session cookie set, to the Overview"), 401: _html("credential refused")},
)
def login() -> Response[str]:
    session = sessions.sign_in(_form(None).get("credential", ""))
    if session is None:
        return html(pages.login(_base(), "That credential was not accepted."), 401)
    return redirect(f"{_base()}/overview", sessions.set_cookie(session, _base()))


@app.get(
    "/console/signin",
    tags=TAGS,
    responses={303: _html("signed in: session cookie set, to the Overview"), 401: _html("link used or expired")},
)
def signin(token: Text = "") -> Response[str]:
    session = sessions.redeem_link(token)
    if session is None:
        return html(pages.login(_base(), "That sign-in link was already used or has expired."), 401)
    return redirect(f"{_base()}/overview", sessions.set_cookie(session, _base()))


@app.post("/console/logout", tags=TAGS, responses=ACTION)
def logout() -> Response[str]:
    session = _session()
    _form(session)
    sessions.sign_out(session)
    return redirect(_base(), sessions.set_cookie(None, _base()))


@app.get(
    "/console/console.css",
    tags=TAGS,
    responses={200: {"description": "the stylesheet", "content": {"text/css": {"schema": {"type": "string"}}}}},
)
def stylesheet() -> Response[str]:
    css = resources.files("ledgerbridge.console").joinpath("console.css").read_text(encoding="utf-8")
    return Response(
        status_code=200,
        content_type="text/css; charset=utf-8",
        body=css,
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# ---------------------------------------------------------------------------------------------- pages
@app.get("/console/overview", tags=TAGS, responses=PAGE)
def overview() -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    return html(pages.overview(_ctx(session, tenant, _notice()), build_overview(tenant, datetime.now(UTC))))


@app.get("/console/connect/<target>", tags=TAGS, responses=REDIRECT)
def connect(target: str) -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    try:
        with _outside("connect"):
            location = targets.find(tenant, target).connect_url(tenant, _origin(), f"{_base()}/overview")
    except LookupError as exc:
        raise Problem(404, "Not available", str(exc)) from None
    return Response(status_code=302, body="", headers={**SECURITY_HEADERS, "Location": location})


@app.get("/console/activity", tags=TAGS, responses=PAGE)
def activity_page(outcome: Text = "", target: Text = "", entity: Text = "", after: Text = "") -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    ctx = _ctx(session, tenant, _notice())
    filters = synclog.Filters(outcome=outcome, target=target, entity=entity)
    if after and not after[:4].isdigit():
        raise Problem(400, "Bad request", "after: not a position in the sync log")
    entries, next_after = synclog.page(session.tenant_id, filters, after, PAGE_SIZE)
    dead = replay.dead_letters(session.tenant_id, [name for name, _ in ctx.targets])
    return html(pages.activity(ctx, filters, entries, after, next_after, dead))


@app.post("/console/activity/retry", tags=TAGS, responses=ACTION)
def retry() -> Response[str]:
    session, form, tenant = _posted()
    try:
        with _outside("retry"):
            entry = form.get("entry", "")[:100]
            activity.retry(session.tenant_id, entry, activity.reopen_failed(tenant), queues.publish_jobs)
    except (NotFound, InvalidInput) as exc:
        raise Problem(400, "Cannot retry", str(exc)) from None
    return redirect(f"{_base()}/activity?notice=retried")


@app.post("/console/activity/retry-failed", tags=TAGS, responses=ACTION)
def retry_failed() -> Response[str]:
    session, form, tenant = _posted()
    try:
        since = datetime.fromisoformat(form.get("since", "")[:40])
    except ValueError:
        raise Problem(400, "Cannot retry", "since: give a date and time, e.g. 2025-11-17T08:00") from None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    with _outside("retry"):
        activity.retry_failed_since(session.tenant_id, since, activity.reopen_failed(tenant), queues.publish_jobs)
    return redirect(f"{_base()}/activity?notice=retried-all")


@app.post("/console/dead-letters/replay", tags=TAGS, responses=ACTION)
def replay_dead() -> Response[str]:
    session, form, tenant = _posted()
    chosen = [form["message_id"][:100]] if form.get("message_id") else []
    replay.replay(session.tenant_id, [t.name for t in targets.for_tenant(tenant)], chosen)
    return redirect(f"{_base()}/activity?notice=replayed")


@app.get("/console/exports", tags=TAGS, responses=PAGE)
def exports_page() -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    return html(pages.exports(_ctx(session, tenant, _notice()), exports.list_for(session.tenant_id, limit=100)))


@app.get("/console/exports/<export_id>/download", tags=TAGS, responses=REDIRECT)
def download(export_id: str, part: Annotated[Literal["file", "errors"], Query()] = "file") -> Response[str]:
    session = _session()
    cfg = get_config()
    try:
        link = files.download_link(
            aws.client("s3"), cfg.file_drop_bucket, session.tenant_id, export_id, part, cfg.download_link_ttl_s
        )
    except NotFound as exc:
        raise Problem(404, "No such file", str(exc)) from None
    return Response(status_code=302, body="", headers={**SECURITY_HEADERS, "Location": link})


@app.post("/console/exports/<export_id>/confirm", tags=TAGS, responses=ACTION)
def confirm(export_id: str) -> Response[str]:
    session, _, tenant = _posted()
    left_s = app.lambda_context.get_remaining_time_in_millis() / 1000
    try:
        with _outside("confirm"):  # bounded as the files API's: a big export is confirmed over several presses
            manifest = files.confirm_within(session.tenant_id, export_id, lambda: wiring.platform_for(tenant), left_s)
    except NotFound as exc:
        raise Problem(404, "No such export", str(exc)) from None
    except InvalidInput as exc:
        raise Problem(409, "Cannot confirm", str(exc)) from None
    partial = files.confirm_remaining(manifest) > 0
    return redirect(f"{_base()}/exports?notice={'confirm-partial' if partial else 'confirmed'}")


def _report(tenant: Tenant, target: str, period: str) -> reconcile.Report:
    try:
        with _outside("reconcile"):
            return reconcile.run(tenant, targets.find(tenant, target), wiring.platform_for(tenant), period)
    except (LookupError, InvalidInput) as exc:
        raise Problem(400, "Cannot reconcile", str(exc)) from None


@app.get("/console/reconciliation", tags=TAGS, responses=PAGE)
def reconciliation(target: Text = "", period: Text = "") -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    ctx = _ctx(session, tenant)
    target = target or (ctx.targets[0][0] if ctx.targets else "")
    if not period:
        return html(pages.reconciliation(ctx, target, datetime.now(UTC).strftime("%Y-%m"), None))
    try:
        report = _report(tenant, target, period)
    except Problem as exc:
        return html(pages.reconciliation(ctx, target, period, None, exc.text), exc.status)
    return html(pages.reconciliation(ctx, target, period, report))


@app.get(
    "/console/reconciliation.csv",
    tags=TAGS,
    responses={
        200: {"description": "the report", "content": {"text/csv": {"schema": {"type": "string"}}}},
        303: SIGN_IN_FIRST,
        400: _html("bad query"),
        409: _html("the ledger has not answered yet (a query waits for the target's next session)"),
    },
)
def reconciliation_csv(target: Text = "", period: Text = "") -> Response[str]:
    session = _session()
    report = _report(_tenant(session), target, period)
    if report.reading.pending:
        raise Problem(409, "Not read yet", report.reading.note)
    name = f"reconciliation-{target}-{period}.csv".replace('"', "")
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(
        status_code=200, content_type="text/csv; charset=utf-8", body=reconcile.to_csv(report.rows), headers=headers
    )


@app.get("/console/dry-run", tags=TAGS, responses=PAGE)
def dry_run(target: Text = "", invoice_ids: Annotated[str, Query(max_length=2000)] = "") -> Response[str]:
    session = _session()
    tenant = _tenant(session)
    ctx = _ctx(session, tenant)
    target = target or (ctx.targets[0][0] if ctx.targets else "")
    ids = [i.strip() for i in invoice_ids.split(",") if i.strip()][:20]
    if not ids:
        return html(pages.dry_run(ctx, target, invoice_ids, None))
    try:
        with _outside("run a dry run"):
            plan = targets.find(tenant, target).dry_run(tenant, ids)
    except (LookupError, NotFound, InvalidInput) as exc:
        return html(pages.dry_run(ctx, target, invoice_ids, None, str(exc)), 400)
    except Problem as exc:
        return html(pages.dry_run(ctx, target, invoice_ids, None, exc.text), exc.status)
    return html(pages.dry_run(ctx, target, invoice_ids, plan))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
