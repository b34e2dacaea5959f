"""A sync job: one record to bring into one target. The message on every <target>-sync FIFO queue."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.records import UtcDatetime
from ledgerbridge.tenants import TargetName

SyncEntity = Literal["invoice", "customer", "payment"]


class SyncJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    target: TargetName
    entity: SyncEntity
    source_id: str = Field(min_length=1, max_length=64)
    # Direction: "push" = platform -> accounting; "pull" = accounting -> platform (payments flowing back).
    direction: Literal["push", "pull"] = "push"
    event_id: str = Field(min_length=1, max_length=128)
    action: str = "updated"
    trigger: Literal["webhook", "schedule", "manual", "catchup", "sweep"] = "webhook"
    occurred_at: UtcDatetime

    @property
    def group_id(self) -> str:
        """Order per record, parallel across records (ARCHITECTURE.md, Queues)."""
        return f"{self.tenant_id}#{self.entity}#{self.source_id}"
