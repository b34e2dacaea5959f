"""Clock events: GET /clock -> `events`; POST /job/{id}/clockin and /clockout (docs/servicetrade-double.md).

Events come from two places: `store.clock_events` (small, mutable: the demo company and anything clocked
through the API) and `store.clock_block` (bulk benchmark rows in columns). A window filter selects events
whose clock-in lies in [startTime, endTime]; results are in clock-in order, bulk rows first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from werkzeug.wrappers import Response

from sandbox.servicetrade.http import ApiError, Ctx, Page, Query, Row, envelope, not_found, to_int
from sandbox.servicetrade.render import Renderer
from sandbox.servicetrade.store import ACTIVITIES

CLOCK_LIMIT = CLOCK_MAX = 2000  # not documented


def list_clock_events(ctx: Ctx) -> Response:
    params, store = ctx.params, ctx.store
    users = params.integers("userIds")
    user = params.integer("userId")
    if user is not None:
        users = (users or set()) | {user}
    jobs = None if params.integer("jobId") is None else {params.integer("jobId") or 0}
    activities = params.texts("activity")
    if activities and not activities.issubset(ACTIVITIES):
        raise ApiError(400, f"activity must be one of {', '.join(ACTIVITIES)}")
    open_only = params.flag("openClockEvents")
    if open_only and users is None:
        raise ApiError(400, "openClockEvents requires userId or userIds")
    if "appointmentId" in params and jobs is None:
        raise ApiError(400, "appointmentId requires jobId")
    start, end = params.integer("startTime"), params.integer("endTime")
    sources = params.texts("source")

    q = Query(params).ints("appointmentId", lambda e: e.get("appointmentId"))
    q.strs("source", lambda e: e.get("source", "mobile")).strs("activity", lambda e: e["activity"])
    q.between("startTime", "endTime", lambda e: e["clockIn"])
    if users is not None:
        q.where(lambda e: e["userId"] in users)
    if jobs is not None:
        q.where(lambda e: e.get("jobId") in jobs)
    if open_only:
        q.where(lambda e: e.get("clockOut") is None)
    small = sorted(q.apply(store.clock_events.values()), key=lambda e: (e["clockIn"], e["id"]))

    block = store.clock_block
    bulk: Sequence[int] = ()
    # Bulk rows are all closed, mobile, without an appointment.
    bulk_ok = not open_only and (sources is None or "mobile" in sources) and "appointmentId" not in params
    if block is not None and bulk_ok:
        bulk = block.select(start, end, users, jobs, activities)

    page = Page.of(len(bulk) + len(small), params, CLOCK_LIMIT, CLOCK_MAX)
    renderer = Renderer(store, ctx.base_url)
    first, last = page.start, page.start + page.limit
    rows: list[Row] = []
    if block is not None and first < len(bulk):
        rows.extend(renderer.block_events(block, list(bulk[first : min(last, len(bulk))])))
    small_first, small_last = max(0, first - len(bulk)), max(0, last - len(bulk))
    rows.extend(renderer.clock_event(e) for e in small[small_first:small_last])
    return envelope(page.body("events", rows))


def _open_event(ctx: Ctx, user_id: int) -> Row | None:
    for event in ctx.store.clock_events.values():
        if event["userId"] == user_id and event.get("clockOut") is None:
            return event
    return None


def clock_in(ctx: Ctx, id: int) -> Response:
    job = ctx.store.jobs.get(id)
    if job is None:
        raise not_found("Job", id)
    body = ctx.body()
    user_id = to_int(body.get("userId", ctx.user_id), "userId")
    if user_id not in ctx.store.users:
        raise not_found("User", user_id)
    activity = str(body.get("activity", "onsite"))
    if activity not in ACTIVITIES:
        raise ApiError(400, f"activity must be one of {', '.join(ACTIVITIES)}")
    if _open_event(ctx, user_id) is not None:
        raise ApiError(400, "User is already clocked in")
    event: Row = {"id": ctx.store.new_id(), "activity": activity, "source": "mobile", "userId": user_id, "jobId": id}
    appointment = body.get("appointmentId")
    event.update(appointmentId=None if appointment is None else to_int(appointment, "appointmentId"))
    event.update(clockIn=int(time.time()), clockOut=None, lat=body.get("lat"), lon=body.get("lon"))
    ctx.store.clock_events[event["id"]] = event
    ctx.emit("clockevent", event["id"], "created")
    return envelope(Renderer(ctx.store, ctx.base_url).clock_event(event))


def clock_out(ctx: Ctx, id: int) -> Response:
    if id not in ctx.store.jobs:
        raise not_found("Job", id)
    body = ctx.body()
    user_id = to_int(body.get("userId", ctx.user_id), "userId")
    event = _open_event(ctx, user_id)
    if event is None or event.get("jobId") != id:
        raise ApiError(400, "User is not clocked in on this job")
    event["clockOut"] = max(int(time.time()), event["clockIn"])
    closed = [{"field": "clockOut", "oldValue": None, "newValue": event["clockOut"]}]
    ctx.emit("clockevent", event["id"], "updated", closed)
    return envelope(Renderer(ctx.store, ctx.base_url).clock_event(event))
