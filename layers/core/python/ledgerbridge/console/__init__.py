"""The console: a status page per tenant, served by the API (functions/console), plain server-rendered HTML.

sessions        sign-in (credential or one-time link) -> short-lived session cookie; CSRF tokens
activity        the sync log page by page (DynamoDB cursors), Retry and "retry all failed since"
replay          dead-letter messages of the sync queues, listed and re-driven with their own event ids
reconcile       platform invoices vs ledger documents for a period, differences explained (pure)
targets         the tenant's targets through the registry's plug-ins (summary, ledger reader, connect, dry run)
overview        the numbers on the first page
html / pages    markup helpers and the pages themselves (pure: data in, HTML out)
"""
