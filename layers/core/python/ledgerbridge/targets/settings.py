"""What every target's integration settings have in common. A target's own model (targets/<name>/settings.py)
subclasses TargetSettings with `target: Literal["<name>"]` and its own fields; the registry joins them into the
discriminated union that `Tenant.integrations` holds, so a field one target needs (the account it is connected
to, say) lives on that target's settings and nowhere else.

This module imports pydantic only: tenants.py reaches it through the registry at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SyncEntityName = Literal["invoice", "customer", "payment"]
Trigger = Literal["webhook", "schedule"]


class TargetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str  # each subclass narrows this to Literal["<name>"]: the union's discriminator
    enabled: bool = True
    triggers: list[Trigger] = Field(default_factory=lambda: ["webhook"])  # type: ignore[arg-type]
    entities: list[SyncEntityName] = Field(default_factory=lambda: ["invoice"])  # type: ignore[arg-type]
    secret_name: str = Field(default="", description="Secrets Manager name of the target's credentials")
