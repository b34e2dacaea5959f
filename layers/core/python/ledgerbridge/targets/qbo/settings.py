"""A tenant's QuickBooks Online integration settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ledgerbridge.config import Environment
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


class QboEnvironment(Environment):
    """Where QuickBooks Online is (template.yaml parameters; the local stack points them at the sandbox)."""

    qbo_api_base_url: str = Field(default="https://quickbooks.api.intuit.com", pattern=r"^https?://")
    qbo_discovery_url: str = Field(
        default="https://developer.api.intuit.com/.well-known/openid_configuration", pattern=r"^https?://"
    )
    qbo_app_secret_name: str = Field(default="ledgerbridge/app/qbo", min_length=1)


def qbo_environment() -> QboEnvironment:
    """Read each time (a few fields): tests and the local stack point QBO elsewhere between cases."""
    return QboEnvironment.from_env()
