"""Export periods in the tenant's own calendar: a day (2026-11-24), an ISO week (2026-W48) or a month
(2026-11). A period knows its UTC bounds, so a run reads exactly the records of that business period.

`due` decides whether an hourly tick runs a connector: the tick runs it when the tenant's scheduled local
time falls in the hour that ends at the tick, so a scheduled hour that a DST change skips (02:00 on the
spring-forward day) still runs once, at the first tick after it, and a repeated hour (fall back) runs once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ledgerbridge.errors import InvalidInput
from ledgerbridge.tenants import ConnectorSettings

Kind = Literal["day", "week", "month"]
TICK = timedelta(hours=1)  # the dispatcher's schedule: cron(0 * * * ? *)


@dataclass(frozen=True)
class Period:
    kind: Kind
    first: date  # first local day
    last: date  # last local day, inclusive

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first.strftime("%Y-%m")

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the local days first..last."""
        return local_midnight(self.first, timezone), local_midnight(self.last + timedelta(days=1), timezone)

    def following(self) -> Period:
        return containing(self.kind, self.last + timedelta(days=1))


def local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def parse(text: str) -> Period:
    """'2026-11-24' | '2026-W48' | '2026-11'; anything else is an InvalidInput naming the format."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return Period("day", day, day)
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", value):
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period("week", monday, monday + timedelta(days=6))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return containing("month", date(int(m[1]), int(m[2]), 1))
    except ValueError as exc:
        raise InvalidInput(f"period {text!r} is not a real date: {exc}", "period") from None
    raise InvalidInput(
        f"period {text!r} must look like 2026-11-24 (day), 2026-W48 (ISO week) or 2026-11 (month)", "period"
    )


def containing(kind: Kind, day: date) -> Period:
    """The period of this kind that holds `day`."""
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period("week", monday, monday + timedelta(days=6))
    first = day.replace(day=1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period("month", first, nxt - timedelta(days=1))


def previous(kind: Kind, local_day: date) -> Period:
    """The last complete period before `local_day`."""
    return containing(kind, containing(kind, local_day).first - timedelta(days=1))


def check_complete(period: Period, timezone: str, now: datetime) -> None:
    """A period that has not started yet in the tenant's time zone cannot be exported."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if period.first > today:
        raise InvalidInput(f"period {period.label} has not started yet ({timezone} date is {today})", "period")


def due(settings: ConnectorSettings, timezone: str, scheduled_utc: datetime) -> Period | None:
    """The period a connector exports at this hourly tick, or None if it is not due now."""
    if not settings.enabled:
        return None
    tz = ZoneInfo(timezone)
    tick = scheduled_utc.astimezone(UTC)
    sched = settings.schedule
    local_today = tick.astimezone(tz).date()
    for day in (local_today, local_today - timedelta(days=1)):
        # fold=0: a wall time skipped by DST maps to the instant just after the gap, so it still runs.
        at = datetime.combine(day, time(sched.hour), tz).astimezone(UTC)
        if not tick - TICK < at <= tick:
            continue
        if sched.frequency == "weekly" and day.weekday() != sched.weekday:
            return None
        if sched.frequency == "monthly" and day.day != 1:
            return None
        return previous(settings.period, day)
    return None


def catch_up(due_period: Period, cursor: str | None, limit: int = 31) -> list[Period]:
    """The due period and any earlier ones that never completed: every period after the cursor (the last
    local day a delivered export covered) up to the due one, oldest first, at most `limit` of them.
    No cursor (a new connector) means just the due period; a cursor at or past it means nothing."""
    if cursor is None:
        return [due_period]
    try:
        done = date.fromisoformat(cursor)
    except ValueError:
        return [due_period]
    if done >= due_period.last:
        return []
    found: list[Period] = []
    # If the kind was changed, the cursor may end inside a period: that period is exported whole (records
    # confirmed as imported are never exported twice).
    period = containing(due_period.kind, done + timedelta(days=1))
    while period.last <= due_period.last:
        found.append(period)
        period = period.following()
    return found[-limit:]
