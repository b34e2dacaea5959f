"""Times are timezone-aware and kept in UTC (a naive datetime is refused). Its own small module because jobs and
schedules need it without the record models (make bench, coldstart)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
