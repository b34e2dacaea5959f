"""A faithful local double of QuickBooks Online (OAuth + Accounting API v3), never deployed.

    server = start(clock=ManualClock())
    server.url, server.discovery_url, server.realm_id, server.issue_tokens()
    server.fail_next(2, status=503); server.drop_after_commit(); server.advance(61); server.stop()

docs/qbo.md lists each behaviour with the research it follows.
"""

from sandbox.qbo.clock import Clock, ManualClock, ScaledClock, SystemClock
from sandbox.qbo.server import QboSandboxServer, start
from sandbox.qbo.state import SandboxOptions, SandboxState

__all__ = [
    "Clock",
    "ManualClock",
    "QboSandboxServer",
    "SandboxOptions",
    "SandboxState",
    "ScaledClock",
    "SystemClock",
    "start",
]
