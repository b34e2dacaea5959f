"""A tenant's Sage Intacct integration settings."""

from __future__ import annotations

from typing import Literal

from ledgerbridge.targets.settings import TargetSettings


class IntacctSettings(TargetSettings):
    target: Literal["intacct"] = "intacct"
