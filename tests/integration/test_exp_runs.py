"""Export runs end to end: the scheduled dispatcher, the FIFO export queue, the worker, S3 and DynamoDB (moto),
and the ServiceTrade sandbox over HTTP. Expected bytes are re-rendered from the same platform records with
the renderer, independently of the run's own staging (per-technician spool, sorted merge)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ledgerbridge import aws, consumer, secrets
from ledgerbridge.connectors import (
    RunInfo,
    build_labor,
    check_invoices,
    check_labor,
    decide,
    error_file,
    invoice_rows,
    labor_rows,
    load_builtin,
    render_bytes,
)
from ledgerbridge.connectors.rows import Mappings
from ledgerbridge.errors import InvalidInput
from ledgerbridge.exports import gather, periods, s3writer
from ledgerbridge.exports.dispatch import ExportJob
from ledgerbridge.exports.run import run_export
from ledgerbridge.source.servicetrade import ServiceTradeSource
from ledgerbridge.state import cursors, exports
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.tenants import ConnectorSettings, MappingSettings, Schedule, Tenant
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SandboxServer, start
from sandbox.stack.functions import invoke
from sandbox.stack.pollers import QueuePoller, scheduled_input
from tests.helpers import make_tenant

TZ = "America/New_York"
WEEK = "2025-W45"  # Mon 2025-11-03 .. Sun 2025-11-09 in the demo company's data
MONDAY_TICK = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)  # 02:00 EST on Monday 2025-11-10
NOW = datetime(2025, 11, 14, 17, 0, tzinfo=UTC)


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start() as server:
        yield server


def weekly(connector: str = "csv", policy: str = "hold_row", **more: Any) -> ConnectorSettings:
    return ConnectorSettings.model_validate(
        {
            "connector": connector,
            "connections": ["ar_invoices", "labor_hours"],
            "schedule": Schedule(frequency="weekly", hour=2, weekday=0),
            "period": "week",
            "on_problem": policy,
            **more,
        }
    )


def tenant_for(st: SandboxServer, tenant_id: str = "acme-fire", **settings: Any) -> Tenant:
    name = f"ledgerbridge/{tenant_id}/servicetrade"
    secrets.write_json(name, {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})
    return make_tenant(
        tenant_id,
        timezone=TZ,
        source_base_url=st.url,
        source_secret_name=name,
        connectors=[weekly(**settings)],
        mapping=MappingSettings(external_system="qbo"),
    )


def source(st: SandboxServer) -> ServiceTradeSource:
    return ServiceTradeSource(st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, timezone=TZ)


def body(key: str) -> bytes:
    return bytes(aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read())


def bucket() -> str:
    from ledgerbridge.config import get_config

    return get_config().file_drop_bucket


def keys() -> list[str]:
    resp = aws.client("s3").list_objects_v2(Bucket=bucket())
    return sorted(o["Key"] for o in resp.get("Contents", []))


def run(tenant: Tenant, connection: str, period: str = WEEK, st: Any = None) -> exports.Manifest:
    connector = tenant.connectors[0].connector
    job = ExportJob(tenant_id=tenant.tenant_id, connector=connector, connection=connection, period=period)
    return run_export(tenant, job, source(st), aws.client("s3"), bucket(), NOW)


def expected_invoices(st: SandboxServer, tenant: Tenant, period: str = WEEK) -> tuple[bytes, list[str]]:
    p = periods.parse(period)
    src = source(st)
    invoices = list(src.invoices(status="pending_accounting", transaction_after=p.first, transaction_before=p.last))
    customers = {i.customer.id: src.customer(i.customer.id).external_ids.get("qbo", "") for i in invoices}
    maps = Mappings(customers={k: v for k, v in customers.items() if v})
    run_info = RunInfo(tenant.tenant_id, "csv", "ar_invoices", f"csv.ar_invoices.{p.label}", p.first, p.last)
    kept = list(decide(check_invoices(invoices), "hold_row").keep(invoices))
    return render_bytes(load_builtin("csv", "ar_invoices"), invoice_rows(kept, maps, run_info)), [
        i.source_id for i in kept
    ]


def expected_labor(st: SandboxServer, tenant: Tenant, period: str = WEEK) -> tuple[bytes, bytes]:
    """The whole-period computation the connectors doc describes, in one piece (no spool, no per-technician
    split): check every entry, keep the good ones, build hours, render. Returns (file, error file)."""
    p = periods.parse(period)
    start = periods.local_midnight(gather.lead_in_start(p), TZ)
    first, end = p.utc_bounds(TZ)
    entries = list(source(st).labor_entries(start, end))
    problems = check_labor(entries, timezone=TZ)
    kept = decide(problems, "hold_row").keep(entries)
    rows = build_labor(
        kept, timezone=TZ, period_start=p.first, period_end=p.last, overtime=tenant.connectors[0].overtime
    )
    run_info = RunInfo(tenant.tenant_id, "csv", "labor_hours", f"csv.labor_hours.{p.label}", p.first, p.last)
    by_id = {e.source_id: e for e in entries}
    shown = [  # entries of the lead-in days were reported by their own period's run
        x
        for x in problems
        if ((e := by_id[x.source_id]).clock_out is None and first <= e.clock_in)
        or (e.clock_out is not None and e.clock_out > first and e.clock_in < end)
    ]
    return render_bytes(load_builtin("csv", "labor_hours"), labor_rows(rows, run_info)), error_file(shown)


def drain_exports(stack: Any) -> int:
    source_ = next(s for s in stack.template.queue_sources() if s.function == "ExportFunction")
    poller = QueuePoller(stack, source_)
    handled = 0
    while n := poller.poll_once():
        handled += n
    assert not poller.errors, poller.errors
    return handled


# --- the scheduled run, end to end ----------------------------------------------------------------------


def test_scheduled_run_dispatches_and_delivers_files_errors_and_manifests(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st)
    make_tenant("not-due", timezone="Asia/Tokyo", connectors=[weekly()])  # Monday 16:00 in Tokyo: not due
    schedule = next(s for s in aws.template.schedules() if s.function == "ExportDispatchFunction")
    result = invoke("ExportDispatchFunction", scheduled_input(schedule, MONDAY_TICK))
    assert result["jobs"] == 2
    assert drain_exports(aws) == 2

    key = f"acme-fire/csv/ar_invoices/{WEEK}/ar_invoices-{WEEK}.csv"
    want, invoice_ids = expected_invoices(st, tenant)
    assert sorted(invoice_ids) == sorted(
        str(i["id"])
        for i in st.state.invoices.values()
        if i["invoiceNumber"] in {"INV-24107", "INV-24109", "INV-24110", "INV-24111", "INV-24114"}
    )
    assert body(key) == want
    manifest = exports.load("acme-fire", f"csv.ar_invoices.{WEEK}")
    assert manifest.status == "ready" and manifest.key == key and manifest.records == 5
    assert manifest.rows == want.count(b"\r\n") - 1  # header line
    assert manifest.size == len(want)
    assert manifest.sha256 == __import__("hashlib").sha256(want).hexdigest()
    assert manifest.error_key == "" and f"acme-fire/csv/ar_invoices/{WEEK}/ar_invoices-{WEEK}.errors.csv" not in keys()
    assert cursors.read("acme-fire", "export#csv#ar_invoices") == "2025-11-09"

    labor_key = f"acme-fire/csv/labor_hours/{WEEK}/labor_hours-{WEEK}.csv"
    want_labor, want_errors = expected_labor(st, tenant)
    assert body(labor_key) == want_labor
    labor = exports.load("acme-fire", f"csv.labor_hours.{WEEK}")
    assert labor.error_key == f"acme-fire/csv/labor_hours/{WEEK}/labor_hours-{WEEK}.errors.csv"
    errors = body(labor.error_key)
    assert sorted(errors.splitlines()[1:]) == sorted(want_errors.splitlines()[1:])
    assert b"no_employee_number" in errors  # Jordan Hale has no payroll id in the demo company
    assert labor.problem_count == len(want_errors.splitlines()) - 1 > 0
    assert all(p["record_type"] == "labor" for p in labor.problems)
    assert {k for k in keys() if k.startswith("not-due/")} == set()


def test_rerun_writes_the_same_key_with_the_same_bytes(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st)
    first = run(tenant, "labor_hours", st=st)
    before = body(first.key)
    again = run(tenant, "labor_hours", st=st)
    assert again.key == first.key and again.sha256 == first.sha256
    assert body(again.key) == before
    assert [k for k in keys() if "labor_hours" in k] == sorted([first.key, first.error_key])


# --- failures, policy -----------------------------------------------------------------------------------


class FailingS3:
    """The real (moto) client, except that upload_part fails on the given part number."""

    def __init__(self, fail_on_part: int) -> None:
        self._s3 = aws.client("s3")
        self.fail_on_part = fail_on_part

    def upload_part(self, **kwargs: Any) -> Any:
        if kwargs["PartNumber"] == self.fail_on_part:
            raise ConnectionError("injected: upload_part failed")
        return self._s3.upload_part(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_failed_upload_leaves_no_object_and_does_not_advance_the_cursor(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st)
    job = ExportJob(tenant_id="acme-fire", connector="csv", connection="ar_invoices", period=WEEK)
    with pytest.raises(ConnectionError):
        run_export(tenant, job, source(st), FailingS3(fail_on_part=1), bucket(), NOW)
    assert keys() == []
    assert aws_uploads() == []
    assert cursors.read("acme-fire", "export#csv#ar_invoices") is None
    assert exports.find("acme-fire", f"csv.ar_invoices.{WEEK}") is None


def aws_uploads() -> list[Any]:
    return list(aws.client("s3").list_multipart_uploads(Bucket=bucket()).get("Uploads", []))


def test_failed_part_of_a_large_file_aborts_the_multipart_upload(aws: Any) -> None:
    chunks = (b"x" * (1024 * 1024) for _ in range(12))  # 12 MiB: the second part fails
    with pytest.raises(ConnectionError):
        s3writer.upload(FailingS3(fail_on_part=2), bucket(), "t/big.csv", chunks, "text/csv", part_size=5 * 2**20)
    assert keys() == [] and aws_uploads() == []


def test_hold_run_holds_the_whole_run(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st, policy="hold_run")
    manifest = run(tenant, "labor_hours", st=st)
    assert manifest.status == "held" and manifest.key == ""
    assert manifest.problem_count > 0 and manifest.held_records > 0
    assert keys() == [manifest.error_key]  # the error file, and no export
    assert b"no_employee_number" in body(manifest.error_key)
    assert cursors.read("acme-fire", "export#csv#labor_hours") is None


def test_hold_run_removes_the_file_of_an_earlier_run_of_the_period(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st)
    ready = run(tenant, "labor_hours", st=st)
    assert ready.key in keys()
    held_tenant = tenant.model_copy(update={"connectors": [weekly(policy="hold_run")]})
    held = run(held_tenant, "labor_hours", st=st)
    assert held.status == "held" and ready.key not in keys()


def test_hold_row_drops_only_the_bad_records(aws: Any, st: SandboxServer) -> None:
    # ComputerEase needs the customer's number: only Crestview (INV-24111, INV-24114) has one in the demo.
    tenant = tenant_for(st, connector="computerease")
    manifest = run(tenant, "ar_invoices", st=st)
    assert manifest.status == "ready" and manifest.records == 2 and manifest.held_records == 3
    text = body(manifest.key).decode("cp1252")
    assert "INV-24111" in text and "INV-24114" in text
    assert not any(n in text for n in ("INV-24107", "INV-24109", "INV-24110"))
    errors = body(manifest.error_key).decode("utf-8-sig")
    assert errors.count("customer_unmapped") == 3 and "Pinecrest Logistics" in errors
    assert {p["code"] for p in manifest.problems} == {"customer_unmapped"}


def test_hold_run_with_one_bad_invoice_delivers_nothing(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st, connector="computerease", policy="hold_run")
    manifest = run(tenant, "ar_invoices", st=st)
    assert manifest.status == "held" and manifest.held_records == 5 and keys() == [manifest.error_key]


# --- confirm: processed on the platform, never exported again -------------------------------------------


def test_confirmed_records_are_processed_and_never_exported_again(aws: Any, st: SandboxServer) -> None:
    from ledgerbridge.files import confirm_import

    tenant = tenant_for(st)
    manifest = run(tenant, "ar_invoices", st=st)
    src = source(st)
    confirmed = confirm_import("acme-fire", manifest.export_id, lambda i: src.set_invoice_status(i, "processed"))
    assert confirmed.status == "confirmed"
    ids = {i for _d, chunk in exports.delivered("acme-fire", manifest.export_id) for i in chunk}
    assert len(ids) == 5
    assert {st.state.invoices[int(i)]["status"] for i in ids} == {"processed"}

    # Someone puts them back to pending_accounting on the platform; a monthly run covers the same days.
    for i in ids:
        st.state.invoices[int(i)]["status"] = "pending_accounting"
    month = run(tenant, "ar_invoices", period="2025-11", st=st)
    text = body(month.key).decode("utf-8-sig")
    numbers = {st.state.invoices[int(i)]["invoiceNumber"] for i in ids}
    assert not any(n in text for n in numbers)
    assert "INV-24115" in text  # pending, 2025-11-10: not in the confirmed week
    # Re-running the confirmed week finds nothing new and leaves the confirmed export in place.
    assert run(tenant, "ar_invoices", st=st) == confirmed


def test_confirmed_labor_days_are_not_exported_again(aws: Any, st: SandboxServer) -> None:
    from ledgerbridge.files import confirm_import

    tenant = tenant_for(st)
    week = run(tenant, "labor_hours", st=st)
    confirm_import("acme-fire", week.export_id, lambda _i: None)
    month = run(tenant, "labor_hours", period="2025-11", st=st)
    dates = {line.split(b",")[0] for line in body(month.key).splitlines()[1:]}
    assert dates and not any(d.startswith(b"2025-11-0") and b"2025-11-03" <= d <= b"2025-11-09" for d in dates)
    assert b"2025-11-10" in dates


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2025-13", "2025-W54", "last week", "2025-11-31"])
def test_bad_period_is_refused_naming_the_format(aws: Any, st: SandboxServer, period: str) -> None:
    tenant = tenant_for(st)
    with pytest.raises(InvalidInput) as err:
        run(tenant, "ar_invoices", period=period, st=st)
    assert err.value.field == "period"
    assert keys() == []


def test_future_period_and_unknown_connection_are_refused(aws: Any, st: SandboxServer) -> None:
    tenant = tenant_for(st)
    with pytest.raises(InvalidInput, match="has not started"):
        run(tenant, "ar_invoices", period="2025-12", st=st)
    with pytest.raises(InvalidInput, match="does not export"):
        run(tenant, "purchase_orders", st=st)


def test_worker_records_a_failed_run_and_does_not_retry_it(aws: Any, st: SandboxServer) -> None:
    tenant_store.save(tenant_for(st).model_copy(update={"source_secret_name": ""}))  # no platform credentials
    job = ExportJob(tenant_id="acme-fire", connector="csv", connection="ar_invoices", period=WEEK)
    event = {"Records": [sqs_record(job)]}
    assert invoke("ExportFunction", event) == {"batchItemFailures": []}
    manifest = exports.load("acme-fire", f"csv.ar_invoices.{WEEK}")
    assert manifest.status == "failed" and "credentials" in manifest.message


def test_worker_reports_a_transient_failure_for_retry(aws: Any, st: SandboxServer) -> None:
    tenant_for(st)
    st.fail_next(20, status=503)
    job = ExportJob(tenant_id="acme-fire", connector="csv", connection="ar_invoices", period=WEEK)
    record = sqs_record(job)
    record["receiptHandle"] = "not-a-real-handle"

    from unittest import mock

    with (
        mock.patch("ledgerbridge.consumer.queue_url_from_arn", return_value="q"),
        mock.patch.object(aws_sqs(), "change_message_visibility") as visibility,
    ):
        result = invoke("ExportFunction", {"Records": [record]})
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert visibility.call_args.kwargs["VisibilityTimeout"] >= 1
    assert keys() == [] and cursors.read("acme-fire", "export#csv#ar_invoices") is None


def test_worker_leaves_the_last_attempt_to_the_dead_letter_queue(aws: Any, st: SandboxServer) -> None:
    """The sync queues' retry policy (ledgerbridge.consumer.consume): the last receive gets no backoff; it is
    released at once, so the redrive policy moves it to the DLQ without waiting out the visibility timeout."""
    tenant_for(st)
    st.fail_next(20, status=503)
    job = ExportJob(tenant_id="acme-fire", connector="csv", connection="ar_invoices", period=WEEK)
    record = sqs_record(job)
    record["attributes"]["ApproximateReceiveCount"] = str(consumer.MAX_RECEIVES)

    from unittest import mock

    with (
        mock.patch("ledgerbridge.consumer.queue_url_from_arn", return_value="q"),
        mock.patch.object(aws_sqs(), "change_message_visibility") as visibility,
    ):
        result = invoke("ExportFunction", {"Records": [record]})
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert [c.kwargs["VisibilityTimeout"] for c in visibility.call_args_list] == [0]


def aws_sqs() -> Any:
    return aws.client("sqs")


def sqs_record(job: ExportJob) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": job.model_dump_json(),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "1",
            "MessageGroupId": job.group_id,
            "MessageDeduplicationId": job.dedupe_id,
            "SequenceNumber": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ledgerbridge-ExportQueue.fifo",
        "awsRegion": "us-east-1",
    }


def test_dispatcher_catches_up_a_missed_period(aws: Any, st: SandboxServer) -> None:
    tenant_for(st)
    cursors.advance("acme-fire", "export#csv#ar_invoices", "2025-10-26")  # W43 done, W44 never ran
    schedule = next(s for s in aws.template.schedules() if s.function == "ExportDispatchFunction")
    invoke("ExportDispatchFunction", scheduled_input(schedule, MONDAY_TICK))
    from ledgerbridge.config import get_config
    from tests.helpers import drain

    bodies = [json.loads(m["Body"]) for m in drain(get_config().export_queue_url)]
    assert sorted((b["connection"], b["period"]) for b in bodies) == [
        ("ar_invoices", "2025-W44"),
        ("ar_invoices", "2025-W45"),
        ("labor_hours", "2025-W45"),
    ]
