"""Bad input across every route of the API, fuzzed: never a 5xx, never a traceback, nothing enqueued."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.console import sessions
from ledgerbridge.state import tenants as tenant_store
from sandbox.stack.template import load
from tests.helpers import call_api, make_tenant

ROUTES = load().api_routes()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "messageId": st.text(max_size=20),
            "timestamp": st.text(max_size=12),
            "data": st.lists(json_values, max_size=3),
        }
    ).map(json.dumps),
)
segments = st.sampled_from(["acme-fire", "nobody", "x" * 80, "..", "%2e%2e", "a b", "<script>", "0"])


def enqueued(stack: Any) -> int:
    from ledgerbridge import aws

    sqs = aws.client("sqs")
    total = 0
    for logical in ("QboSyncQueue", "QbdSyncQueue", "IntacctSyncQueue", "ExportQueue"):
        attrs = sqs.get_queue_attributes(
            QueueUrl=stack.queue_url(logical), AttributeNames=["ApproximateNumberOfMessages"]
        )
        total += int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    return total


def test_every_route_survives_fuzzed_input(aws: Any) -> None:
    make_tenant("acme-fire")
    token = tenant_store.issue_credential("acme-fire", "webhook")
    files = tenant_store.issue_credential("acme-fire", "files")
    session = sessions.redeem_link(sessions.issue_link("acme-fire"))
    assert session is not None

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        route=st.sampled_from(ROUTES),
        segment=segments,
        body=bodies,
        auth=st.sampled_from(["", f"Bearer {files}", "Bearer lbk_acme-fire_00_x", "Basic Zm9v"]),
        hook=st.sampled_from(["", token, "lbk_nobody_1_2"]),
        query=st.dictionaries(
            st.sampled_from(["part", "limit", "state", "code", "realmId", "after", "period", "target", "invoice_ids"]),
            st.text(max_size=20),
        ),
        cookie=st.sampled_from(
            ["", f"lb_console={session.cookie_value}", "lb_console=acme-fire.forged", "lb_console=;"]
        ),
    )
    def probe(
        route: Any, segment: str, body: str | None, auth: str, hook: str, query: dict[str, str], cookie: str
    ) -> None:
        path = route.path
        for name in ("tenant_id", "export_id", "layout_name", "target"):
            path = path.replace("{" + name + "}", segment)
        params = {**query, **({"token": hook} if hook else {})}
        headers = {"Authorization": auth} if auth else {}
        if cookie:
            headers["Cookie"] = cookie
        status, _, parsed = call_api(route.method, path, body=body, query=params or None, headers=headers)
        text = parsed if isinstance(parsed, str) else json.dumps(parsed)
        assert status < 500 or route.path.startswith("/qbwc"), (route, status, text)  # SOAP faults are 500 by spec
        assert "Traceback" not in text and 'File "' not in text
        assert enqueued(aws) == 0

    probe()
