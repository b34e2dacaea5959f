"""The sync engine, for every target alike (targets reach it through ledgerbridge.targets.base):

engine     one record: prepare (mapping, content hash, create intent) -> write -> complete / reject
batch      many records through a BatchWriter, with the same prepare / complete / reject
intake     claim-then-publish of jobs, shared by webhooks and catch-ups (each change enqueued once)
runner     a target's consumer: each job kind to its path (record, batch, pull, catchup)
dispatch   the hourly plan: every target's scheduled jobs for every tenant
"""
