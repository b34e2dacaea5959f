"""A tenant's QuickBooks Desktop integration settings."""

from __future__ import annotations

from typing import Literal

from ledgerbridge.targets.settings import TargetSettings


class QbdSettings(TargetSettings):
    target: Literal["qbd"] = "qbd"
