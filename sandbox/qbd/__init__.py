"""A QuickBooks Desktop company file that answers qbXML, and a Web Connector that drives sessions against
the LedgerBridge SOAP service as QBWC does (docs/qbd.md, The double)."""
