"""A sync job: work for one target, the message on every <target>-sync FIFO queue.

Job kinds (explicit, so no source id ever doubles as a command):
  record    push one platform record (job.entity, job.source_id) to the target: webhooks, manual runs
  batch     push every platform record waiting for accounting, in the target's batches: the schedule
  pull      bring one change of the target (job.source_id is the target's id) back to the platform
  catchup   ask the target what changed since the tenant's cursor and enqueue a pull job for each change
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledgerbridge.targets.registry import TargetName
from ledgerbridge.times import UtcDatetime

SyncEntity = Literal["invoice", "customer", "payment"]
JobKind = Literal["record", "batch", "pull", "catchup"]
Trigger = Literal["webhook", "schedule", "manual", "catchup", "sweep"]


class SyncJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    target: TargetName
    kind: JobKind = "record"
    entity: SyncEntity
    source_id: str = Field(default="", max_length=64)  # "" for batch and catchup jobs, which name no record
    event_id: str = Field(min_length=1, max_length=128)
    action: str = "updated"
    trigger: Trigger = "webhook"
    occurred_at: UtcDatetime

    @model_validator(mode="after")
    def _names_its_record(self) -> Self:
        if self.kind in ("record", "pull") and not self.source_id:
            raise ValueError(f"a {self.kind} job needs the source_id of its record")
        return self

    @property
    def direction(self) -> Literal["push", "pull"]:
        """push = platform -> accounting system; pull = accounting system -> platform (payments back)."""
        return "pull" if self.kind in ("pull", "catchup") else "push"

    @property
    def group_id(self) -> str:
        """Order per record, parallel across records (docs/architecture.md, Queues); one group per tenant for each
        batch or catch-up, so a continuation queues behind the run it continues."""
        return f"{self.tenant_id}#{self.entity}#{self.source_id or self.kind}"
