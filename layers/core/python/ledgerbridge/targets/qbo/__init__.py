"""QuickBooks Online: the plug-in (plugin.py), its client (wire, faults), tokens (OAuth), budget (the realm's
request limits), documents (records -> QBO documents) and target (the record-level push).

Kept empty of imports: the registry imports settings.py from here while tenants.py is loading."""
