"""A tenant's QuickBooks Online integration settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ledgerbridge.targets.settings import TargetSettings

if TYPE_CHECKING:
    from ledgerbridge.tenants import Tenant


class QboSettings(TargetSettings):
    target: Literal["qbo"] = "qbo"
    realm_id: str = Field(default="", description="the connected company; set by the connect flow")


def qbo_settings(tenant: Tenant) -> QboSettings | None:
    """The tenant's enabled QuickBooks Online settings, if any."""
    found = tenant.integration("qbo")
    return found if isinstance(found, QboSettings) else None
