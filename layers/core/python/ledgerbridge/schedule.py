"""The input every ScheduleV2 target receives: the template's Input with Scheduler's context attributes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ledgerbridge.times import UtcDatetime


class ScheduledRun(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    scheduled_time: UtcDatetime
    execution_id: str = ""
