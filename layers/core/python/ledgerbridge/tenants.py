"""Tenant configuration: which connectors and integrations are on, their schedules and mapping settings.

Secrets are never stored here, only the names of the Secrets Manager entries that hold them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ledgerbridge.config import get_config
from ledgerbridge.targets import registry
from ledgerbridge.targets.registry import IntegrationSettings
from ledgerbridge.targets.settings import TargetSettings

ConnectorName = Literal["sage300cre", "computerease", "csv"]
ConnectionName = Literal["ar_invoices", "labor_hours", "purchase_orders", "direct_costs"]
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"


def _valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from exc
    return name


TimeZoneName = Annotated[str, AfterValidator(_valid_timezone)]
# Path segments the API uses itself (/webhooks/<target> is a target's own notification endpoint).
RESERVED_TENANT_IDS = frozenset({"admin", "oauth", *registry.names()})


def _not_reserved(value: str) -> str:
    if value in RESERVED_TENANT_IDS:
        raise ValueError(f"{value!r} is reserved by the API's own routes; choose another tenant id")
    return value


TenantId = Annotated[str, Field(pattern=TENANT_ID_PATTERN), AfterValidator(_not_reserved)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(Settings):
    """When a tenant's export is due, in the tenant's own time zone."""

    frequency: Literal["daily", "weekly", "monthly"] = "daily"
    hour: int = Field(default=2, ge=0, le=23)
    weekday: int = Field(default=0, ge=0, le=6, description="0 = Monday; used when weekly")


class OvertimeRule(Settings):
    daily_hours: float | None = Field(default=8, gt=0, le=24)
    weekly_hours: float | None = Field(default=40, gt=0, le=168)


class ConnectorSettings(Settings):
    connector: ConnectorName
    connections: list[ConnectionName] = Field(min_length=1)
    enabled: bool = True
    schedule: Schedule = Schedule()
    period: Literal["day", "week", "month"] = "day"
    # Which invoice status the AR export picks up; the platform's accounting contract uses pending_accounting.
    invoice_status: str = "pending_accounting"
    on_problem: Literal["hold_row", "hold_run"] = "hold_row"
    overtime: OvertimeRule = OvertimeRule()
    layouts: dict[str, str] = Field(
        default_factory=dict, description="connection -> custom layout name, overriding the built-in one"
    )


class SweepSettings(Settings):
    """The platform-side sweep (ledgerbridge.sweep): how often it looks for changes whose webhooks never came."""

    enabled: bool = True
    interval_minutes: int = Field(
        default=15, ge=5, le=1440, multiple_of=5, description="minutes between sweeps (the schedule ticks every 5)"
    )


class MappingSettings(Settings):
    """How platform values become accounting references. Keys are platform values, values the target's."""

    items: dict[str, str] = Field(default_factory=dict)
    default_item: str = "Services"
    tax_codes: dict[str, str] = Field(default_factory=dict)
    classes: dict[str, str] = Field(default_factory=dict)
    departments: dict[str, str] = Field(default_factory=dict)
    gl_accounts: dict[str, str] = Field(default_factory=dict)
    income_account: str = ""
    customer_naming: Literal["customer", "customer_location"] = "customer"
    external_system: str = "ledgerbridge"
    # The platform has no employee-number field: payroll ids live in external ids of this system on users.
    employee_number_system: str = "payroll"


class Tenant(Settings):
    tenant_id: TenantId
    name: str = Field(min_length=1, max_length=200)
    timezone: TimeZoneName = "UTC"
    source_base_url: str = Field(default="https://api.servicetrade.com", pattern=r"^https?://")
    source_secret_name: str = Field(default="", description="Secrets Manager name of the platform credentials")
    connectors: list[ConnectorSettings] = Field(default_factory=list)
    integrations: list[IntegrationSettings] = Field(default_factory=list)
    mapping: MappingSettings = MappingSettings()
    sweep: SweepSettings = SweepSettings()
    # The platform does not sign webhooks; a tenant that puts a signing proxy in front can require one.
    webhook_signature_required: bool = False

    def integration(self, target: str) -> TargetSettings | None:
        """The enabled settings of one target (its own model: narrow with isinstance for its own fields)."""
        return next((i for i in self.integrations if i.target == target and i.enabled), None)

    def connector(self, name: str) -> ConnectorSettings | None:
        return next((c for c in self.connectors if c.connector == name and c.enabled), None)


def secret_name(tenant_id: str, purpose: str) -> str:
    """The one naming rule for a tenant's secrets, so IAM can scope by prefix: ledgerbridge/{stage}/tenants/..."""
    if not re.fullmatch(r"[a-z0-9_]+", purpose):
        raise ValueError(f"bad secret purpose {purpose!r}")
    return f"{get_config().secret_prefix}/tenants/{tenant_id}/{purpose}"
