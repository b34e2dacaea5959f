"""A faithful local double of Sage Intacct's XML gateway (Web Services API 3.0), never deployed.

    server = start()                       # any free port; server.url is the login endpoint
    server.credentials()                   # the tenant secret that logs in to its demo company
    server.drop_after_commit(); server.advance(3600); server.gateway.apply_payment({...}, date)

docs/intacct.md lists each behaviour with the public source it follows.
"""

from sandbox.intacct.company import Company
from sandbox.intacct.gateway import Gateway, Options
from sandbox.intacct.server import IntacctSandboxServer, start

__all__ = ["Company", "Gateway", "IntacctSandboxServer", "Options", "start"]
