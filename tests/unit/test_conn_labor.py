"""Labor building: splitting at local midnight, per job, daily then weekly overtime, time zones, rounding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledgerbridge.connectors import build_labor, labor_rows, load_builtin, render_bytes
from ledgerbridge.connectors.labor import split_by_day, week_start_of
from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.errors import InvalidInput
from ledgerbridge.records import LaborEntry, Ref
from ledgerbridge.tenants import OvertimeRule
from tests.unit.test_conn_helpers import LABOR_PERIOD, TZ, labor_entries

NY = ZoneInfo(TZ)
ANA = Ref(id="t1", name="Ana")
BEN = Ref(id="t2", name="Ben")
JA = Ref(id="ja", name="JA")
JB = Ref(id="jb", name="JB")
NO_OT = OvertimeRule(daily_hours=None, weekly_hours=None)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def entry(sid: str, start: datetime, end: datetime | None, tech: Ref = ANA, job: Ref = JA) -> LaborEntry:
    return LaborEntry(source_id=sid, technician=tech, employee_number="1", job=job, clock_in=start, clock_out=end)


def summary(rows: list[LaborRow]) -> list[tuple[str, str, str, str, str]]:
    return [
        (r.work_date.isoformat(), r.technician_id, r.job_id, r.pay_type, format(r.hours.normalize(), "f")) for r in rows
    ]


def build(
    entries: list[LaborEntry], start: date, end: date, rule: OvertimeRule = NO_OT, **kw: object
) -> list[LaborRow]:
    return build_labor(entries, timezone=TZ, period_start=start, period_end=end, overtime=rule, **kw)  # type: ignore[arg-type]


MON = date(2024, 6, 3)  # a Monday, no DST change that week


def test_split_at_local_midnight() -> None:
    pieces = list(split_by_day(at(MON, 22).astimezone(UTC), at(MON + timedelta(days=1), 3).astimezone(UTC), NY))
    assert [(d, (e - s) / timedelta(hours=1)) for d, s, e in pieces] == [(MON, 2), (MON + timedelta(days=1), 3)]


def test_split_over_several_days() -> None:
    pieces = list(split_by_day(at(MON, 12), at(MON + timedelta(days=2), 12), NY))
    assert [(e - s) / timedelta(hours=1) for _, s, e in pieces] == [12, 24, 12]


def test_dst_days_follow_the_wall_clock() -> None:
    spring = date(2024, 3, 10)  # 23 hours long in New York
    pieces = list(split_by_day(at(spring, 0), at(spring + timedelta(days=1), 0), NY))
    assert [(d, (e - s) / timedelta(hours=1)) for d, s, e in pieces] == [(spring, 23)]
    fall = date(2024, 11, 3)  # 25 hours long
    pieces = list(split_by_day(at(fall, 0), at(fall + timedelta(days=1), 0), NY))
    assert [(d, (e - s) / timedelta(hours=1)) for d, s, e in pieces] == [(fall, 25)]


def test_overnight_shift_is_split_between_days() -> None:
    rows = build([entry("e", at(MON, 20), at(MON + timedelta(days=1), 2, 30))], MON, MON + timedelta(days=1))
    assert summary(rows) == [("2024-06-03", "t1", "ja", "regular", "4"), ("2024-06-04", "t1", "ja", "regular", "2.5")]
    assert rows[0].entry_ids == ("e",) and rows[1].entry_ids == ("e",)


def test_hours_are_summed_per_technician_job_and_day() -> None:
    rows = build(
        [
            entry("e1", at(MON, 8), at(MON, 10)),
            entry("e2", at(MON, 10, 30), at(MON, 12), job=JB),
            entry("e3", at(MON, 13), at(MON, 15, 15)),
            entry("e4", at(MON, 9), at(MON, 11), tech=BEN),
        ],
        MON,
        MON,
    )
    assert summary(rows) == [
        ("2024-06-03", "t1", "ja", "regular", "4.25"),
        ("2024-06-03", "t1", "jb", "regular", "1.5"),
        ("2024-06-03", "t2", "ja", "regular", "2"),
    ]
    assert rows[0].entry_ids == ("e1", "e3")


def test_daily_overtime_goes_to_the_job_being_worked_when_the_threshold_is_crossed() -> None:
    rows = build(
        [entry("e1", at(MON, 6), at(MON, 12)), entry("e2", at(MON, 12), at(MON, 17), job=JB)],
        MON,
        MON,
        OvertimeRule(daily_hours=8, weekly_hours=None),
    )
    assert summary(rows) == [
        ("2024-06-03", "t1", "ja", "regular", "6"),
        ("2024-06-03", "t1", "jb", "regular", "2"),
        ("2024-06-03", "t1", "jb", "overtime", "3"),
    ]


def test_weekly_overtime_counts_regular_hours_after_daily_overtime() -> None:
    # Mon-Thu 10 h (8 regular + 2 daily OT each = 32 regular), Fri 10 h: 8 regular needed -> 40 reached
    # after 8, so Fri = 8 regular + 2 daily OT; Sat 5 h: all weekly overtime.
    days = [MON + timedelta(days=i) for i in range(6)]
    entries = [entry(f"e{i}", at(d, 7), at(d, 17 if i < 5 else 12)) for i, d in enumerate(days)]
    rows = build(entries, days[0], days[-1], OvertimeRule(daily_hours=8, weekly_hours=40))
    by_day = {(r.work_date.weekday(), r.pay_type): r.hours for r in rows}
    assert by_day[(4, "regular")] == 8 and by_day[(4, "overtime")] == 2
    assert (5, "regular") not in by_day and by_day[(5, "overtime")] == 5
    assert sum(r.hours for r in rows if r.pay_type == "regular") == 40


def test_weekly_only_rule() -> None:
    days = [MON + timedelta(days=i) for i in range(5)]
    entries = [entry(f"e{i}", at(d, 7), at(d, 18)) for i, d in enumerate(days)]  # 11 h a day, 55 h
    rows = build(entries, days[0], days[-1], OvertimeRule(daily_hours=None, weekly_hours=40))
    thursday = {r.pay_type: r.hours for r in rows if r.work_date == days[3]}
    friday = {r.pay_type: r.hours for r in rows if r.work_date == days[4]}
    assert thursday == {"regular": 7, "overtime": 4}  # 33 h by Wednesday, 40 reached at 7 h on Thursday
    assert friday == {"overtime": 11}
    assert sum(r.hours for r in rows if r.pay_type == "regular") == 40


def test_weekly_count_uses_earlier_days_of_the_workweek_but_outputs_only_the_period() -> None:
    days = [MON + timedelta(days=i) for i in range(5)]
    entries = [entry(f"e{i}", at(d, 7), at(d, 17)) for i, d in enumerate(days)]  # 10 h a day
    friday = build(entries, days[4], days[4], OvertimeRule(daily_hours=None, weekly_hours=40))
    assert summary(friday) == [("2024-06-07", "t1", "ja", "overtime", "10")]
    # a new workweek starts the count again
    next_monday = build(
        [*entries, entry("n", at(MON + timedelta(days=7), 7), at(MON + timedelta(days=7), 17))],
        MON + timedelta(days=7),
        MON + timedelta(days=7),
        OvertimeRule(daily_hours=None, weekly_hours=40),
    )
    assert summary(next_monday) == [("2024-06-10", "t1", "ja", "regular", "10")]


def test_week_start_is_configurable() -> None:
    assert week_start_of(date(2024, 6, 5), 0) == date(2024, 6, 3)
    assert week_start_of(date(2024, 6, 5), 6) == date(2024, 6, 2)  # Sunday-start weeks


def test_days_are_the_tenants_local_days() -> None:
    utc_evening = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)  # 22:00 on Monday in New York
    rows = build([entry("e", utc_evening, utc_evening + timedelta(hours=1))], MON, MON + timedelta(days=1))
    assert summary(rows) == [("2024-06-03", "t1", "ja", "regular", "1")]
    tokyo = build_labor(
        [entry("e", utc_evening, utc_evening + timedelta(hours=1))],
        timezone="Asia/Tokyo",
        period_start=MON,
        period_end=MON + timedelta(days=1),
        overtime=NO_OT,
    )
    assert summary(tokyo) == [("2024-06-04", "t1", "ja", "regular", "1")]


def test_entries_outside_the_period_are_left_out() -> None:
    rows = build([entry("e", at(MON, 8), at(MON, 9))], MON + timedelta(days=1), MON + timedelta(days=2))
    assert rows == []


def test_hours_are_exact_then_rounded_half_up_by_the_layout() -> None:
    # 8 h 20 m 30 s = 8.341666.. -> 8.34; 7 m 30 s = 0.125 -> 0.13 (half up; half even would give 0.12)
    rows = build(
        [
            entry("a", at(MON, 8), at(MON, 16, 20) + timedelta(seconds=30)),
            entry("b", at(MON, 17), at(MON, 17, 7) + timedelta(seconds=30), job=JB),
        ],
        MON,
        MON,
    )
    assert [r.hours for r in rows] == [Decimal("8.341667"), Decimal("0.125000")]
    out = render_bytes(load_builtin("csv", "labor_hours"), labor_rows(rows)).decode("utf-8-sig").splitlines()
    assert [line.rsplit(",", 1)[1] for line in out[1:]] == ["8.34", "0.13"]


def test_open_clock_in_is_refused() -> None:
    with pytest.raises(InvalidInput, match="has no clock-out"):
        build([entry("e", at(MON, 8), None)], MON, MON)


def test_canonical_labor_set() -> None:
    start, end = LABOR_PERIOD
    rows = build_labor(labor_entries(), timezone=TZ, period_start=start, period_end=end)  # default rule 8/40
    assert summary(rows) == [
        ("2024-03-09", "t1", "j1", "regular", "8"),
        ("2024-03-09", "t1", "j1", "overtime", "1.5"),
        ("2024-03-09", "t1", "j2", "overtime", "2"),
        ("2024-03-10", "t1", "j2", "regular", "3"),  # 00:00 -> 04:00 on spring-forward day: 3 real hours
        ("2024-03-11", "t2", "j1", "overtime", "1.25"),
        ("2024-03-11", "t2", "j2", "regular", "8"),
        ("2024-03-11", "t2", "j2", "overtime", "0.583333"),
    ]
    assert rows[0].employee_number == "104" and rows[-1].technician_name == "Łukasz Wróbel"
