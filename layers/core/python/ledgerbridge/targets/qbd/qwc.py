"""The .qwc file a customer opens in the QuickBooks Web Connector ("Add an application").

Fields as the QBWC Programmer's Guide and Intuit's sample (QBXML_SDK_Samples .../WCWebService/
HTTPSWebService.qwc) define them. OwnerID and FileID are GUIDs derived from the tenant id, so a file
downloaded again is the same application to QBWC and QuickBooks (no second authorisation prompt). The
password is not in the file: QBWC asks for it once and keeps it.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from ledgerbridge.tenants import Tenant

NAMESPACE = uuid.UUID("8d5e0c2a-1f44-4d8e-9b0c-3a6f0e9d7b21")  # LedgerBridge's; never change it
APP_NAME = "LedgerBridge"
DEFAULT_EVERY_MINUTES = 15


def guid(tenant_id: str, purpose: str) -> str:
    return "{" + str(uuid.uuid5(NAMESPACE, f"{tenant_id}/{purpose}")).upper() + "}"


def filename(tenant_id: str) -> str:
    return f"ledgerbridge-{tenant_id}.qwc"


def render(tenant: Tenant, app_url: str, support_url: str, every_minutes: int = DEFAULT_EVERY_MINUTES) -> str:
    """The .qwc for a tenant; `app_url` is its SOAP endpoint (https, or http://localhost in development)."""
    if not app_url.startswith(("https://", "http://localhost", "http://127.0.0.1")):
        raise ValueError("QBWC accepts only https AppURLs (http only on this computer)")
    root = ET.Element("QBWCXML")
    fields = (
        ("AppName", f"{APP_NAME} ({tenant.name})"[:100]),
        ("AppID", ""),
        ("AppURL", app_url),
        ("AppDescription", "Sends field-service invoices to QuickBooks and brings payments back"),
        ("AppSupport", support_url),
        ("UserName", tenant.tenant_id),
        ("OwnerID", guid(tenant.tenant_id, "owner")),
        ("FileID", guid(tenant.tenant_id, "file")),
        ("QBType", "QBFS"),
        ("Style", "Document"),
    )
    for tag, value in fields:
        ET.SubElement(root, tag).text = value
    scheduler = ET.SubElement(root, "Scheduler")
    ET.SubElement(scheduler, "RunEveryNMinutes").text = str(every_minutes)
    ET.SubElement(root, "IsReadOnly").text = "false"
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode")


class WebConnectorFile:
    """The .qwc as the plug-in's download (targets.base.Download): GET /tenants/{t}/targets/qbd/qwc."""

    name = "qwc"
    media_type = "application/xml"

    def filename(self, tenant_id: str) -> str:
        return filename(tenant_id)

    def render(self, tenant: Tenant, api_base: str) -> str:
        endpoint = f"{api_base}/qbwc/{tenant.tenant_id}"  # functions/qbwc
        return render(tenant, endpoint, f"{endpoint}?wsdl")
