"""The console end to end in Debian's chromium, on the local stack (moto server, the sandboxes, the API
front): sign in from the keyboard, a failed record fixed and retried, an export downloaded and confirmed,
a reconciliation with one planted difference, a dry run; then a tenant with every target: each one's card on
the Overview (Intacct's sign-in, QuickBooks Desktop's last Web Connector session, QuickBooks Online's Connect)
and an Intacct reconciliation with one planted difference. Every page is screenshotted and checked for
labels, contrast and keyboard reach."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge import aws, wiring
from ledgerbridge.state import exports, synclog
from ledgerbridge.state import tenants as tenant_store
from sandbox import demo
from sandbox.stack.runner import LocalStack

pytestmark = pytest.mark.browser
MONDAY_TICK = datetime(2025, 11, 17, 7, 0, tzinfo=UTC)  # the demo tenant's weekly export hour

# Every visible form control has a label; text meets WCAG AA contrast (4.5:1, 3:1 for large text).
A11Y = """
const problems = [];
const lum = (rgb) => {
  const c = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
const background = (el) => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor);
  if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) problems.push('no label: ' + el.outerHTML);
}
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length || el.closest('.skip')) continue;
  const style = getComputedStyle(el);
  const fg = rgba(style.color).slice(0, 3), bg = background(el);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && style.fontWeight >= 700);
  const what = `${el.tagName} ${el.textContent.trim().slice(0, 40)}`;
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: ${what}`);
}
if (document.documentElement.lang !== 'en') problems.push('no lang');
if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
return problems;
"""


def fresh_functions() -> None:
    """Forget the handlers imported so far (and their module-scope clients): the local stack's moto
    server has its own endpoint, which clients made for an in-process moto (or for a stopped server)
    would not reach."""
    from sandbox.stack.functions import handler
    from tests.conftest import reset_caches

    handler.cache_clear()
    for name in [m for m in sys.modules if m.startswith("lb_function_")]:
        del sys.modules[name]
    reset_caches()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    fresh_functions()
    running = LocalStack(background=False).start()
    try:
        yield running
    finally:
        running.stop()
        fresh_functions()


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, browser: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            where = f" at {browser.current_url}: {browser.page_source[:3000]}" if browser is not None else ""
            raise AssertionError(f"timed out{where}")
        time.sleep(0.1)
    return value


def open_page(browser: Any, address: str) -> None:
    """Navigate and wait until the new document is there (a download before it can leave the old one
    half-replaced for a moment)."""
    browser.get(address)
    wait_for(
        lambda: (
            browser.execute_script("return document.readyState") == "complete"
            and browser.current_url.split("?")[0] == address.split("?")[0]
            and "</main>" in browser.page_source
        ),
        browser=browser,
    )


def check_page(driver: Any, shots: Path, name: str) -> None:
    """Screenshot, then the accessibility checks, then keyboard reach: Tab from the top lands on the
    skip link, and every link and button can take focus."""
    driver.save_screenshot(str(shots / f"{name}.png"))
    assert driver.execute_script(A11Y) == [], name
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    # Keys go to whatever has focus (ActionChains never clicks): start from the top of the document.
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    first = driver.switch_to.active_element
    assert first.get_attribute("class") == "skip", name
    unreachable = driver.execute_script(
        "return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select')]"
        ".filter(e => e.tabIndex < 0 || e.disabled).map(e => e.outerHTML)"
    )
    assert unreachable == [], name


def sync_pending(stack: LocalStack, tenant_id: str) -> list[dict[str, Any]]:
    """The office sends every pending invoice to accounting (the platform's webhooks), and the queues run."""
    st = stack.sandboxes["servicetrade"]
    pending = sorted(
        (i for i in st.state.invoices.values() if i["status"] == "pending_accounting"), key=lambda i: i["id"]
    )
    before = len(st.deliveries)
    for invoice in pending:
        st.deliver("invoice", invoice["id"], action="updated")
    wait_for(lambda: len(st.deliveries) >= before + len(pending))
    stack.drain()
    return pending


def test_the_console_in_a_browser(stack: LocalStack, browser: Any, screenshots: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    assert stack.front is not None
    seeded = demo.seed(stack)
    tenant_id = seeded["tenant_id"]
    qbo = stack.sandboxes["qbo"]
    tenant = tenant_store.load(tenant_id)
    platform = wiring.platform_for(tenant)
    st = stack.sandboxes["servicetrade"]
    pending_ids = [str(i["id"]) for i in st.state.invoices.values() if i["status"] == "pending_accounting"]
    groups = {i: platform.invoice(i).tax_group for i in pending_ids}
    planted = next(g for g in groups.values() if g)  # a tax group the mapping forgets: those invoices fail
    victims = sorted(i for i, g in groups.items() if g == planted)
    forgetful = tenant.mapping.model_copy(
        update={"tax_codes": {k: v for k, v in tenant.mapping.tax_codes.items() if k != planted}}
    )
    tenant_store.save(tenant.model_copy(update={"mapping": forgetful}))
    sync_pending(stack, tenant_id)
    assert {e.source_id for e in synclog.recent(tenant_id, 100) if e.outcome == "failed"} >= set(victims)

    # --- sign in from the keyboard
    base = f"{stack.front.url}/console"
    open_page(browser, base)
    check_page(browser, screenshots, "1-sign-in")
    ActionChains(browser).send_keys(Keys.TAB).perform()  # from the skip link to the field
    field = browser.switch_to.active_element
    assert field.get_attribute("id") == "credential"
    field.send_keys(tenant_store.issue_credential(tenant_id, "console"), Keys.ENTER)
    wait_for(lambda: browser.current_url.endswith("/console/overview"), browser=browser)
    cookie = browser.get_cookie("lb_console")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert "QuickBooks Online" in browser.page_source and "connected to company" in browser.page_source
    check_page(browser, screenshots, "2-overview")

    # --- a failed record: the accounting system's words and the hint, fixed, retried
    open_page(browser, f"{base}/activity?outcome=failed")
    assert "What to fix:" in browser.page_source and planted in browser.page_source
    check_page(browser, screenshots, "3-activity")
    tenant_store.save(tenant)  # the fix: the tax group is mapped again
    browser.find_elements(By.XPATH, "//button[text()='Retry']")[0].click()
    # The redirect's URL, not the notice text: on the local stack the platform's webhook for the reopened
    # invoice runs in another thread at the same moment, and Powertools keeps the current event on the
    # router class, shared by the in-process functions (Lambda runs one event per process). The notice
    # itself is checked in tests/integration/test_console.py.
    wait_for(lambda: browser.current_url.endswith("notice=retried"), browser=browser)
    browser.execute_script("arguments[0].value = '2020-01-01T00:00'", browser.find_element(By.ID, "since"))
    browser.find_element(By.XPATH, "//button[text()='Retry all failed']").click()
    wait_for(lambda: browser.current_url.endswith("notice=retried-all"), browser=browser)
    stack.drain()
    numbers = {str(i["id"]): i["invoiceNumber"] for i in st.state.invoices.values()}
    in_qbo = [i["DocNumber"] for i in qbo.objects("Invoice", qbo.realm_id)]
    for victim in victims:
        assert in_qbo.count(numbers[victim]) == 1, (victim, in_qbo)  # created once, retried twice
    open_page(browser, f"{base}/activity?outcome=created")
    log = [(e.outcome, e.message) for e in synclog.recent(tenant_id, 200) if e.source_id in victims]
    assert all(numbers[v] in browser.page_source for v in victims), log

    # --- an export downloaded and confirmed
    stack.fire_schedule("export_dispatch", MONDAY_TICK)
    stack.drain()
    open_page(browser, f"{base}/exports")
    check_page(browser, screenshots, "4-exports")
    ready = next(m for m in exports.list_for(tenant_id) if m.status == "ready" and m.size > 0)
    link = browser.find_element(By.CSS_SELECTOR, f"a[href$='/exports/{ready.export_id}/download']")
    link.click()
    name = ready.key.rsplit("/", 1)[-1]
    try:
        downloaded = wait_for(lambda: next((p for p in browser.downloads.glob(name) if p.stat().st_size), None))
    except AssertionError:
        found = [(p.name, p.stat().st_size) for p in browser.downloads.iterdir()]
        raise AssertionError(f"{name} not in {found}; {ready}") from None
    stored = aws.client("s3").get_object(Bucket=aws_bucket(), Key=ready.key)["Body"].read()
    assert downloaded.read_bytes() == stored
    form = browser.find_element(By.CSS_SELECTOR, f"form[action$='/exports/{ready.export_id}/confirm']")
    form.find_element(By.TAG_NAME, "button").click()
    wait_for(lambda: browser.current_url.endswith("notice=confirmed"), browser=browser)
    assert exports.load(tenant_id, ready.export_id).status == "confirmed"

    # --- reconciliation with one planted difference: the bookkeeper voids a synced invoice in QuickBooks
    from sandbox.qbo.flows import Bookkeeper

    baseline = differing_numbers(browser, f"{base}/reconciliation?period=2025-11")  # the demo's own history
    voided_number = numbers[victims[0]]
    doc = next(i for i in qbo.objects("Invoice", qbo.realm_id) if i["DocNumber"] == voided_number)
    Bookkeeper(qbo).client.void("invoice", doc["Id"], doc["SyncToken"], uuid.uuid4().hex)
    open_page(browser, f"{base}/reconciliation")
    period = browser.find_element(By.ID, "period")
    period.clear()
    period.send_keys("2025-11", Keys.ENTER)
    wait_for(lambda: "invoices compared" in browser.page_source, browser=browser)
    check_page(browser, screenshots, "5-reconciliation")
    differing = {r.text.split()[0]: r.text for r in browser.find_elements(By.XPATH, "//tr[td/span[text()='differs']]")}
    assert set(differing) - baseline == {voided_number}, differing
    assert "voided in the ledger" in differing[voided_number]
    browser.find_element(By.LINK_TEXT, "Download CSV").click()
    report = wait_for(lambda: next(iter(browser.downloads.glob("reconciliation-*.csv")), None))
    assert "voided in the ledger" in wait_for(lambda: report.read_text())

    # --- dry run of an invoice, then sign out
    from servicetrade import ServicetradeClient

    from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    edited = next(i for i in pending_ids if i not in victims)  # synced, then edited and sent again
    office = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    office.put(f"/invoice/{edited}", {"notes": "After-hours call-out included", "status": "pending_accounting"})
    before = len(qbo.objects("Invoice", qbo.realm_id))
    open_page(browser, f"{base}/dry-run?invoice_ids={edited}")
    assert "After-hours call-out included" in browser.page_source and "Nothing was written" in browser.page_source
    assert len(qbo.objects("Invoice", qbo.realm_id)) == before
    check_page(browser, screenshots, "6-dry-run")
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
    wait_for(lambda: browser.current_url.rstrip("/").endswith("/console"), browser=browser)
    browser.get(f"{base}/activity")
    wait_for(lambda: "Sign in to LedgerBridge" in browser.page_source, browser=browser)


def web_connector_session(stack: LocalStack, tenant_id: str) -> str:
    """One Web Connector session of the tenant against the local API front (its own company file)."""
    import requests

    from sandbox.qbd.company import Company
    from sandbox.qbd.webconnector import WebConnector

    assert stack.front is not None
    url = f"{stack.front.url}/qbwc/{tenant_id}"

    def transport(action: str, body: str) -> tuple[int, str]:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action}
        resp = requests.post(url, data=body.encode(), headers=headers, timeout=60)
        return resp.status_code, resp.text

    password = tenant_store.issue_credential(tenant_id, "connector")
    return WebConnector(transport, Company(), tenant_id, password, sleep=lambda _s: None).run_session().closed


def test_every_target_on_the_overview_and_an_intacct_reconciliation(
    stack: LocalStack, browser: Any, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    from ledgerbridge.targets.qbd.settings import QbdSettings
    from ledgerbridge.targets.qbo.settings import QboSettings
    from sandbox.intacct import demo as intacct_demo

    assert stack.front is not None
    st, intacct = stack.sandboxes["servicetrade"], stack.sandboxes["intacct"]
    tenant_id = intacct_demo.seed(stack)  # Sage Intacct, connected with stored credentials
    tenant = tenant_store.load(tenant_id)
    every = [*tenant.integrations, QbdSettings(entities=["invoice", "customer", "payment"]), QboSettings()]
    tenant_store.save(tenant.model_copy(update={"integrations": every}))
    assert web_connector_session(stack, tenant_id).startswith("OK: 0 sent")  # Desktop: payments looked up

    # Three of the platform's invoices go to Intacct (the office sends them to accounting again).
    chosen = sorted(st.state.invoices.values(), key=lambda i: i["id"])[:3]
    for invoice in chosen:
        invoice["status"] = "pending_accounting"
    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.queues import publish_jobs

    now = datetime.now(UTC)
    publish_jobs(
        [
            SyncJob(tenant_id=tenant_id, target="intacct", entity="invoice", source_id=str(i["id"]),
                    event_id=f"console-browser-{i['id']}-{now.timestamp()}", occurred_at=now)
            for i in chosen
        ]
    )  # fmt: skip
    stack.drain()
    records = {r["RECORDID"]: r for r in intacct.invoices()}
    assert {i["invoiceNumber"] for i in chosen} <= set(records), [r for r in records]

    base = f"{stack.front.url}/console"
    open_page(browser, base)
    browser.find_element(By.ID, "credential").send_keys(tenant_store.issue_credential(tenant_id, "console"))
    browser.find_element(By.XPATH, "//button[text()='Sign in']").click()
    wait_for(lambda: browser.current_url.endswith("/console/overview"), browser=browser)
    cards = {
        c.find_element(By.TAG_NAME, "h2").text: c.text for c in browser.find_elements(By.CSS_SELECTOR, ".cards > div")
    }
    assert f"signed in to Intacct company {intacct.company.company_id}" in cards["Sage Intacct"]
    assert "last Web Connector session ended" in cards["QuickBooks Desktop"]
    assert "0 sent, 0 failed, 0 left for the next run" in cards["QuickBooks Desktop"]
    assert "not connected" in cards["QuickBooks Online"] and "Connect" in cards["QuickBooks Online"]
    check_page(browser, screenshots, "7-overview-every-target")

    # The bookkeeper reverses (voids) one of them in Intacct: exactly that one new difference.
    voided = records[chosen[0]["invoiceNumber"]]
    period = datetime.strptime(voided["WHENCREATED"], "%m/%d/%Y").strftime("%Y-%m")
    page = f"{base}/reconciliation?target=intacct&period={period}"
    baseline = differing_numbers(browser, page)
    intacct.company.invoices[voided["RECORDNO"]]["STATE"] = "Reversed"
    differing = differing_numbers(browser, page)
    assert differing - baseline == {voided["RECORDID"]}, (differing, baseline)
    assert "voided in the ledger" in browser.page_source
    check_page(browser, screenshots, "8-reconciliation-intacct")
    browser.find_element(By.LINK_TEXT, "Download CSV").click()
    report = wait_for(lambda: next(iter(browser.downloads.glob("reconciliation-intacct-*.csv")), None))
    assert "voided in the ledger" in wait_for(lambda: report.read_text())


def differing_numbers(browser: Any, page: str) -> set[str]:
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    return {r.text.split()[0] for r in browser.find_elements(By.XPATH, "//tr[td/span[text()='differs']]")}


def aws_bucket() -> str:
    from ledgerbridge.config import get_config

    return get_config().file_drop_bucket
