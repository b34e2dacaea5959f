"""Labor hours: worked intervals -> hours per technician, job, local calendar day and pay type.

1. Each closed LaborEntry (one job, clock-in to clock-out, UTC) is split at the tenant's local midnights
   (DST days are 23 or 25 hours long; the split follows the wall clock).
2. Per technician, the pieces are walked in time order and classified by the tenant's OvertimeRule:
   first the daily threshold (hours past `daily_hours` on one local day are overtime), then the weekly
   threshold (regular hours past `weekly_hours` in one workweek are overtime). The job being worked when
   a threshold is crossed is the job that gets the overtime.
3. Pieces are summed per (technician, job, day, pay type); only days inside the period are returned, but
   the weekly count starts at the workweek that contains the period's first day, so give the builder the
   entries from that workweek's start (a daily export on a Thursday needs Monday to Wednesday too).
Arithmetic is in whole microseconds; hours are Decimal (6 places). The renderer rounds them to the
layout's decimals, ROUND_HALF_UP, as the targets do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.errors import InvalidInput
from ledgerbridge.records import LaborEntry
from ledgerbridge.tenants import OvertimeRule

_US_PER_HOUR = 3_600_000_000
_ONE_US = timedelta(microseconds=1)
_SIX_PLACES = Decimal("0.000001")


def split_by_day(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[tuple[date, datetime, datetime]]:
    """[start, end) cut at local midnights: (local day, piece start, piece end), all UTC instants."""
    current = start
    while current < end:
        day = current.astimezone(tz).date()
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        if midnight <= current:  # cannot happen with IANA zones; never loop forever on a bad one
            midnight = current + timedelta(hours=1)
        piece_end = min(midnight, end)
        yield day, current, piece_end
        current = piece_end


def week_start_of(day: date, week_start: int) -> date:
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def _threshold_us(hours: float | None) -> int | None:
    if hours is None:
        return None
    return int((Decimal(str(hours)) * _US_PER_HOUR).to_integral_value(ROUND_HALF_UP))


def build_labor(
    entries: Iterable[LaborEntry],
    *,
    timezone: str,
    period_start: date,
    period_end: date,
    overtime: OvertimeRule | None = None,
    job_numbers: Mapping[str, str] | None = None,
    week_start: int = 0,
) -> list[LaborRow]:
    """Hours per technician/job/day/pay type for the period (inclusive), sorted; see the module doc.

    `week_start` is the workweek's first day (0 = Monday). Open clock-ins are refused: run
    `validation.check_labor` first and drop or hold what it reports.
    """
    tz = ZoneInfo(timezone)
    rule = overtime or OvertimeRule()
    daily, weekly = _threshold_us(rule.daily_hours), _threshold_us(rule.weekly_hours)
    jobs = job_numbers or {}
    first_day = week_start_of(period_start, week_start)

    pieces: dict[str, list[tuple[datetime, str, date, int, LaborEntry]]] = defaultdict(list)
    for entry in entries:
        if entry.clock_out is None:
            raise InvalidInput(f"labor entry {entry.source_id} has no clock-out; validate first", "clock_out")
        for day, start, end in split_by_day(entry.clock_in, entry.clock_out, tz):
            if first_day <= day <= period_end:
                pieces[entry.technician.id].append((start, entry.source_id, day, (end - start) // _ONE_US, entry))

    totals: dict[tuple[str, str, date, str], int] = defaultdict(int)
    ids: dict[tuple[str, str, date, str], set[str]] = defaultdict(set)
    who: dict[str, LaborEntry] = {}
    job_of: dict[str, LaborEntry] = {}
    for tech, tech_pieces in pieces.items():
        day_used: dict[date, int] = defaultdict(int)
        week_regular: dict[date, int] = defaultdict(int)
        for _start, source_id, day, us, entry in sorted(tech_pieces, key=lambda p: (p[0], p[1])):
            regular = us if daily is None else max(0, min(us, daily - day_used[day]))
            over = us - regular
            day_used[day] += us
            week = week_start_of(day, week_start)
            if weekly is not None:
                allowed = max(0, min(regular, weekly - week_regular[week]))
                over += regular - allowed
                regular = allowed
            week_regular[week] += regular
            if day < period_start:
                continue
            if tech not in who or (not who[tech].employee_number and entry.employee_number):
                who[tech] = entry
            job_of.setdefault(entry.job.id, entry)
            for pay_type, amount in (("regular", regular), ("overtime", over)):
                if amount:
                    key = (tech, entry.job.id, day, pay_type)
                    totals[key] += amount
                    ids[key].add(source_id)

    rows = []
    for (tech, job_id, day, pay_type), us in totals.items():
        person, job = who[tech], job_of[job_id].job
        rows.append(
            LaborRow(
                work_date=day,
                employee_number=person.employee_number,
                technician_id=tech,
                technician_name=person.technician.name,
                job_id=job_id,
                job_name=job.name,
                job_number=jobs.get(job_id) or job.name,
                pay_type="regular" if pay_type == "regular" else "overtime",
                hours=(Decimal(us) / _US_PER_HOUR).quantize(_SIX_PLACES, ROUND_HALF_UP),
                entry_ids=tuple(sorted(ids[(tech, job_id, day, pay_type)])),
            )
        )
    rows.sort(
        key=lambda r: (r.work_date, r.employee_number, r.technician_id, r.job_number, r.job_id, r.pay_type != "regular")
    )
    return rows
