"""A tenant's Sage Intacct settings: how platform records become Intacct documents and where they post."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.targets.settings import TargetSettings


class Dimensions(BaseModel):
    """Line dimensions. Each standard one has a default and a map keyed by the platform line's service line;
    a value that does not exist in the company is refused by Intacct with its own error (the invoice fails)."""

    model_config = ConfigDict(extra="forbid")

    location_id: str = ""
    locations: dict[str, str] = Field(default_factory=dict)
    department_id: str = ""
    departments: dict[str, str] = Field(default_factory=dict)
    class_id: str = ""
    classes: dict[str, str] = Field(default_factory=dict)
    project_from_job: bool = Field(default=False, description="PROJECTID = the platform job's number")
    custom: dict[str, str] = Field(
        default_factory=dict, description="custom dimension field (e.g. GLDIMREGION) -> value on every line"
    )


class IntacctSettings(TargetSettings):
    target: Literal["intacct"] = "intacct"
    company_id: str = Field(default="", description="the Intacct company id (for people; the secret holds the login)")
    customer_id_prefix: str = Field(default="ST-", max_length=8, description="CUSTOMERID = prefix + platform id")
    terms: str = Field(default="", description="TERMNAME when the platform invoice has no due date")
    default_gl_account: str = "4000"
    gl_accounts: dict[str, str] = Field(default_factory=dict, description="item code or name -> GL account")
    tax_gl_account: str = Field(default="", description="GL account of the sales-tax line (needed once tax is due)")
    unknown_item: Literal["default_account", "fail"] = "default_account"
    dimensions: Dimensions = Dimensions()
    customers_to_platform: bool = Field(
        default=False, description="customers added in Intacct become platform companies (hourly)"
    )
    concurrency: int = Field(default=2, ge=1, le=10, description="requests in flight per company")
