"""QuickBooks Online as a plug-in (ledgerbridge.targets.base.Plugin): the registry's "qbo".

The Target (target.QboTarget) pushes records one by one and in batches, pulls payments back and catches up
through CDC; the hourly plan (catchup.scheduled_jobs) asks for catch-ups and scheduled batch pushes; Intuit's
webhooks (webhook.QboWebhook) become pull jobs; connecting a company is the OAuth flow (connect.QboConnection),
served by the connect function; the console's Overview card and reconciliation read through console.py.
"""

from __future__ import annotations

from ledgerbridge.targets.base import Plugin
from ledgerbridge.targets.qbo.catchup import scheduled_jobs
from ledgerbridge.targets.qbo.connect import QboConnection
from ledgerbridge.targets.qbo.console import QboLedger, summary
from ledgerbridge.targets.qbo.documents import QboDocuments
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.targets.qbo.webhook import QboWebhook

PLUGIN = Plugin(
    name="qbo",
    label="QuickBooks Online",
    settings=QboSettings,
    documents=QboDocuments(),
    open=QboTarget.for_tenant,
    scheduled_jobs=scheduled_jobs,
    webhook=QboWebhook(),
    connection=QboConnection(),
    summary=summary,
    ledger=QboLedger(),
)
