"""Periods and the dispatcher's due rule: each tenant's own calendar, time zone and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ledgerbridge.errors import InvalidInput
from ledgerbridge.exports import periods
from ledgerbridge.exports.dispatch import due_jobs
from ledgerbridge.exports.periods import Period
from ledgerbridge.tenants import ConnectorSettings, Tenant


def settings(**schedule: object) -> ConnectorSettings:
    period = schedule.pop("period", "day")
    return ConnectorSettings.model_validate(
        {"connector": "csv", "connections": ["labor_hours"], "schedule": schedule, "period": period}
    )


def ticks(day: date) -> list[datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    return [start + timedelta(hours=h) for h in range(72)]


def due_ticks(s: ConnectorSettings, tz: str, day: date) -> list[tuple[datetime, str]]:
    out = []
    for tick in ticks(day):
        p = periods.due(s, tz, tick)
        if p is not None:
            out.append((tick, p.label))
    return out


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-11-24", "day", date(2026, 11, 24), date(2026, 11, 24)),
        ("2026-W48", "week", date(2026, 11, 23), date(2026, 11, 29)),
        ("2020-W53", "week", date(2020, 12, 28), date(2021, 1, 3)),
        ("2026-12", "month", date(2026, 12, 1), date(2026, 12, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_parse_and_label_round_trip(text: str, kind: str, first: date, last: date) -> None:
    p = periods.parse(text)
    assert (p.kind, p.first, p.last, p.label) == (kind, first, last, text)
    assert len(p.days()) == (last - first).days + 1


@pytest.mark.parametrize("text", ["2026-13", "2026-W54", "2026-02-30", "yesterday", "2026/11/24", ""])
def test_bad_period_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        periods.parse(text)
    assert err.value.field == "period"


def test_utc_bounds_follow_the_tenant_calendar_across_dst() -> None:
    start, end = periods.parse("2026-03-08").utc_bounds("America/New_York")  # spring forward: 23 hours
    assert start == datetime(2026, 3, 8, 5, tzinfo=UTC) and end - start == timedelta(hours=23)
    start, end = periods.parse("2026-11-01").utc_bounds("America/New_York")  # fall back: 25 hours
    assert end - start == timedelta(hours=25)


def test_previous_and_following() -> None:
    assert periods.previous("day", date(2026, 3, 1)).label == "2026-02-28"
    assert periods.previous("week", date(2026, 11, 25)).label == "2026-W47"
    assert periods.previous("week", date(2026, 11, 23)).label == "2026-W47"  # on Monday: the week before
    assert periods.previous("month", date(2026, 1, 15)).label == "2025-12"
    assert periods.parse("2026-12").following().label == "2027-01"
    assert periods.parse("2026-W53").following().label == "2027-W01"


def test_daily_runs_once_a_day_at_the_local_hour() -> None:
    got = due_ticks(settings(hour=2), "America/New_York", date(2026, 6, 10))
    assert got == [
        (datetime(2026, 6, 9, 6, tzinfo=UTC), "2026-06-08"),
        (datetime(2026, 6, 10, 6, tzinfo=UTC), "2026-06-09"),
        (datetime(2026, 6, 11, 6, tzinfo=UTC), "2026-06-10"),
    ]


def test_a_skipped_hour_still_runs_once_and_a_repeated_hour_once() -> None:
    # 2026-03-08 02:00 does not exist in New York: the run happens at 03:00 EDT (07:00 UTC), once.
    spring = [label for _t, label in due_ticks(settings(hour=2), "America/New_York", date(2026, 3, 8))]
    assert spring == ["2026-03-06", "2026-03-07", "2026-03-08"]
    at = [t for t, label in due_ticks(settings(hour=2), "America/New_York", date(2026, 3, 8)) if label == "2026-03-07"]
    assert at == [datetime(2026, 3, 8, 7, tzinfo=UTC)]
    # 2026-11-01 01:00 happens twice: only the first one runs.
    fall = due_ticks(settings(hour=1), "America/New_York", date(2026, 11, 1))
    assert [label for _t, label in fall] == ["2026-10-30", "2026-10-31", "2026-11-01"]
    assert (datetime(2026, 11, 1, 5, tzinfo=UTC), "2026-10-31") in fall


def test_half_hour_zone_runs_at_the_first_tick_after_the_local_hour() -> None:
    got = due_ticks(settings(hour=2), "Asia/Kolkata", date(2026, 6, 10))  # UTC+05:30
    assert (datetime(2026, 6, 9, 21, tzinfo=UTC), "2026-06-09") in got  # 02:30 local, not 01:30
    assert all(t.hour == 21 for t, _ in got)


def test_weekly_and_monthly() -> None:
    weekly = settings(frequency="weekly", weekday=0, hour=6, period="week")
    got = [(t, label) for day in (date(2026, 11, 23), date(2026, 11, 26)) for t, label in
           due_ticks(weekly, "Europe/Berlin", day)]  # fmt: skip
    assert got == [(datetime(2026, 11, 23, 5, tzinfo=UTC), "2026-W47")]
    monthly = settings(frequency="monthly", hour=0, period="month")
    got = due_ticks(monthly, "Pacific/Auckland", date(2026, 12, 1))
    assert got == [(datetime(2026, 11, 30, 11, tzinfo=UTC), "2026-11")]  # midnight NZDT (UTC+13)


def test_disabled_connector_is_never_due() -> None:
    s = settings(hour=2).model_copy(update={"enabled": False})
    assert due_ticks(s, "UTC", date(2026, 6, 10)) == []


def test_catch_up_after_the_cursor() -> None:
    due = periods.parse("2026-11-24")
    assert periods.catch_up(due, None) == [due]
    assert periods.catch_up(due, "2026-11-24") == []
    assert [p.label for p in periods.catch_up(due, "2026-11-21")] == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert len(periods.catch_up(due, "2025-01-01")) == 31
    assert periods.catch_up(due, "2025-01-01")[-1] == due
    week = periods.parse("2026-W48")
    assert [p.label for p in periods.catch_up(week, "2026-11-18")] == ["2026-W47", "2026-W48"]  # a daily cursor
    assert periods.catch_up(due, "garbage") == [due]


def test_check_complete_refuses_a_period_that_has_not_started() -> None:
    now = datetime(2026, 11, 25, 3, tzinfo=UTC)  # 2026-11-24 22:00 in New York
    periods.check_complete(Period("day", date(2026, 11, 24), date(2026, 11, 24)), "America/New_York", now)
    with pytest.raises(InvalidInput, match="has not started"):
        periods.check_complete(periods.parse("2026-11-25"), "America/New_York", now)


def test_due_jobs_one_per_connection_and_missed_period() -> None:
    s = ConnectorSettings(connector="sage300cre", connections=["labor_hours", "ar_invoices"])
    tenants = [
        Tenant(tenant_id="east-co", name="East", timezone="America/New_York", connectors=[s]),
        Tenant(tenant_id="west-co", name="West", timezone="America/Los_Angeles", connectors=[s]),
    ]
    tick = datetime(2026, 11, 24, 7, tzinfo=UTC)  # 02:00 in New York, 23:00 in Los Angeles
    cursors = {("east-co", "export#sage300cre#ar_invoices"): "2026-11-21"}
    jobs = list(due_jobs(tenants, tick, lambda t, n: cursors.get((t, n))))
    assert [(j.tenant_id, j.connection, j.period) for j in jobs] == [
        ("east-co", "labor_hours", "2026-11-23"),
        ("east-co", "ar_invoices", "2026-11-22"),
        ("east-co", "ar_invoices", "2026-11-23"),
    ]
    assert len({j.dedupe_id for j in jobs}) == 3
    assert jobs[0].group_id == "east-co#sage300cre#labor_hours"
