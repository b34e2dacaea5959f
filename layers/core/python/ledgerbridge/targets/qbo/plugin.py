"""QuickBooks Online as a plug-in (ledgerbridge.targets.base.Plugin): the registry's "qbo"."""

from __future__ import annotations

from ledgerbridge.targets.base import Plugin
from ledgerbridge.targets.qbo.documents import QboDocuments
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.targets.qbo.target import QboTarget

PLUGIN = Plugin(
    name="qbo",
    label="QuickBooks Online",
    settings=QboSettings,
    documents=QboDocuments(),
    open=QboTarget.for_tenant,
)
