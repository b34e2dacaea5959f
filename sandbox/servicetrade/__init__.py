"""A faithful local double of the ServiceTrade REST API (never deployed).

    from sandbox.servicetrade import start, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    with start() as st:                     # the demo company on a free 127.0.0.1 port
        client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        st.fail_next(2, status=503)         # fault injection; st.add_latency(0.5); st.set_token_lifetime(60)
        st.deliver("invoice", 123)          # a webhook message to every subscribed hookUrl

Modules: auth (OAuth2, sessions), store (the in-memory data), render (JSON shapes), resources / billing /
clock / webhooks (routes), faults, app (WSGI), server (threaded server), demo (the demo company),
generate (benchmark data), receiver (a webhook receiver for tests). What the public record says and what
this double chose where it is silent: docs/servicetrade-double.md.
"""

from sandbox.servicetrade.app import RequestRecord, SandboxApp
from sandbox.servicetrade.demo import (
    ACCOUNTING_SYSTEM,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_NOW,
    DEMO_PASSWORD,
    DEMO_TECH_PASSWORD,
    DEMO_TECH_USERNAME,
    DEMO_TIMEZONE,
    DEMO_USERNAME,
    PAYROLL_SYSTEM,
    demo_dataset,
)
from sandbox.servicetrade.generate import generate
from sandbox.servicetrade.receiver import HookReceiver, start_receiver
from sandbox.servicetrade.server import SandboxServer, start
from sandbox.servicetrade.store import ClockBlock, Store
from sandbox.servicetrade.webhooks import DeliveryAttempt

__all__ = [
    "ACCOUNTING_SYSTEM",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_NOW",
    "DEMO_PASSWORD",
    "DEMO_TECH_PASSWORD",
    "DEMO_TECH_USERNAME",
    "DEMO_TIMEZONE",
    "DEMO_USERNAME",
    "PAYROLL_SYSTEM",
    "ClockBlock",
    "DeliveryAttempt",
    "HookReceiver",
    "RequestRecord",
    "SandboxApp",
    "SandboxServer",
    "Store",
    "demo_dataset",
    "generate",
    "start",
    "start_receiver",
]
