"""A faithful local double of QuickBooks Online (OAuth + Accounting API v3), never deployed.

    server = start(clock=ManualClock())
    server.url, server.discovery_url, server.realm_id, server.issue_tokens()
    server.fail_next(2, status=503); server.drop_after_commit(); server.advance(61); server.stop()

docs/qbo.md ("Behaviours and their sources") lists each behaviour with its public source.
"""

from sandbox.qbo.clock import Clock, ManualClock, OffsetClock, ScaledClock, SystemClock
from sandbox.qbo.oauth import OAuthOptions
from sandbox.qbo.server import QboSandboxServer, start
from sandbox.qbo.state import DEFAULT_REALM, SandboxOptions, SandboxState
from sandbox.qbo.webhooks import WebhookOptions, sign

DEMO_CLIENT_ID = OAuthOptions.client_id
DEMO_CLIENT_SECRET = OAuthOptions.client_secret
DEMO_VERIFIER_TOKEN = WebhookOptions.verifier_token
DEMO_REALM = DEFAULT_REALM


def demo_app_secret(url: str, redirect_uri: str = "") -> dict[str, str]:
    """The QBO app secret (template.yaml QboAppSecret) for a sandbox at `url` started with the default keys.

    `redirect_uri` "" lets the connect route derive the callback URL from the request it serves (the local stack
    starts the sandbox before its API front, so the front's URL is not known yet); give one to pin it, as a
    deployment must (Intuit only redirects to registered URIs). `url` is not part of the secret: the API and
    discovery URLs are template parameters (QboApiBaseUrl, QboDiscoveryUrl)."""
    del url  # the keys are the same for every sandbox started with the defaults
    return {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "redirect_uri": redirect_uri,
        "verifier_token": DEMO_VERIFIER_TOKEN,
    }


__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REALM",
    "DEMO_VERIFIER_TOKEN",
    "Clock",
    "ManualClock",
    "OffsetClock",
    "QboSandboxServer",
    "SandboxOptions",
    "SandboxState",
    "ScaledClock",
    "SystemClock",
    "demo_app_secret",
    "sign",
    "start",
]
