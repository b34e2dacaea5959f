"""QuickBooks Online: the plug-in (plugin.py), its client and faults, tokens (OAuth), budget (the realm's
request limits), documents (records -> QBO documents) and target (the record-level push).

Comments cite Intuit's documentation as "Intuit: <topic>"; docs/qbo.md, Sources, has the links.
Kept empty of imports: the registry imports settings.py from here while tenants.py is loading."""
