"""Connect from the console: Intuit's consent, then back to the console's Overview with a notice (never
anywhere else); a connect started from the API still answers JSON (tests/integration/test_qbo_flows.py)."""

from __future__ import annotations

import pytest

from ledgerbridge.errors import InvalidInput
from ledgerbridge.targets.qbo import connect as qbo_connect
from sandbox.qbo.flows import consent
from tests.helpers import call_api
from tests.integration.test_console import sign_in
from tests.integration.test_qbo_flows import TENANT, World, world  # noqa: F401 (the fixture)


def console_connect(jar: dict[str, str]) -> str:
    status, headers, _ = call_api("GET", "/console/connect/qbo", headers=jar)
    assert status == 302, headers
    return headers["Location"]


def test_a_connect_started_in_the_console_comes_back_to_the_overview(world: World) -> None:  # noqa: F811
    jar, _ = sign_in(TENANT)
    _, _, page = call_api("GET", "/console/overview", headers=jar)
    assert "not connected" in page and "/console/connect/qbo" in page

    status, headers, body = call_api("GET", "/oauth/qbo/callback", query=consent(console_connect(jar)))
    assert status == 303, body
    assert headers["Location"] == "/console/overview?notice=connected"
    _, _, page = call_api("GET", "/console/overview", headers=jar, query={"notice": "connected"})
    assert "Connected: the accounting system accepted the connection." in page
    assert f"connected to company {world.qbo.realm_id}" in page


def test_a_refused_consent_comes_back_with_a_notice_and_no_details(world: World) -> None:  # noqa: F811
    jar, _ = sign_in(TENANT)
    params = consent(console_connect(jar))
    status, headers, _ = call_api("GET", "/oauth/qbo/callback", query={**params, "error": "access_denied"})
    assert status == 303 and headers["Location"] == "/console/overview?notice=connect-refused"
    _, _, page = call_api("GET", "/console/overview", headers=jar, query={"notice": "connect-refused"})
    assert 'class="error" role="alert"' in page and "consent was declined" in page


def test_the_callback_never_redirects_outside_the_console(world: World) -> None:  # noqa: F811
    for elsewhere in ("https://evil.test/console/overview", "//evil.test/console/overview", "/console/activity",
                      "/console/overview?next=https://evil.test", "/a/b/console/overview"):  # fmt: skip
        with pytest.raises(InvalidInput):
            qbo_connect.begin(TENANT, "http://localhost/oauth/qbo/callback", return_to=elsewhere)
    assert qbo_connect.safe_return_to("/dev/console/overview") == "/dev/console/overview"
    # A state stored with anything else (a tampered table) is answered as JSON, never redirected.
    assert qbo_connect.safe_return_to("https://evil.test/") == ""


def test_an_api_started_connect_still_answers_json(world: World) -> None:  # noqa: F811
    from tests.integration.test_qbo_flows import start_connect

    status, headers, body = call_api("GET", "/oauth/qbo/callback", query=consent(start_connect(world)))
    assert status == 200 and body["status"] == "connected" and "Location" not in headers
