"""A job whose tenant does not exist (deleted after the job was queued) is a permanent failure in every consumer:
logged, counted (UnknownTenantJobs), its message deleted (no batch item failure, no backoff), never retried
into the DLQ."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from ledgerbridge import aws
from ledgerbridge.exports.dispatch import ExportJob
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import metrics
from ledgerbridge.state import synclog
from sandbox.stack.functions import invoke
from tests.helpers import make_tenant

GONE = "gone-fire"


def record(body: str, group: str, receives: int = 1) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": "1",
            "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "1",
            "MessageGroupId": group,
            "MessageDeduplicationId": "d-1",
            "SequenceNumber": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ledgerbridge-Queue.fifo",
        "awsRegion": "us-east-1",
    }


def dropped(function: str, event: dict[str, Any]) -> tuple[Any, list[Any], list[Any]]:
    """Invoke a consumer; its answer, its visibility changes and the metrics it counted."""
    with (
        mock.patch.object(aws.client("sqs"), "change_message_visibility") as visibility,
        mock.patch.object(metrics, "add_metric", wraps=metrics.add_metric) as counted,
    ):
        result = invoke(function, event)
    return result, visibility.call_args_list, [c.kwargs for c in counted.call_args_list]


@pytest.mark.parametrize(
    ("function", "target", "kind"),
    [
        ("SyncQboFunction", "qbo", "record"),
        ("SyncQboFunction", "qbo", "batch"),
        ("SyncQbdFunction", "qbd", "record"),
        ("SyncIntacctFunction", "intacct", "record"),
    ],
)
def test_a_sync_job_for_an_unknown_tenant_is_dropped_not_retried(
    aws: Any, caplog: pytest.LogCaptureFixture, function: str, target: str, kind: str
) -> None:
    make_tenant("acme-fire")  # another tenant exists; the job's does not
    job = SyncJob(
        tenant_id=GONE,
        target=target,
        kind=kind,  # type: ignore[arg-type]
        entity="invoice",
        source_id="1001" if kind == "record" else "",
        event_id=f"e-{function}-{kind}",
        occurred_at=datetime.now(UTC),
    )
    # Its last receive: nothing may be written "gave up ... moved to the dead-letter queue" either.
    event = {"Records": [record(job.model_dump_json(), job.group_id, receives=5)]}
    result, visibility, counted = dropped(function, event)
    assert result == {"batchItemFailures": []}
    assert visibility == []
    assert synclog.recent(GONE) == []
    assert {"name": "UnknownTenantJobs", "unit": MetricUnit.Count, "value": 1} in counted
    assert "sync job for an unknown tenant dropped" in caplog.text


def test_an_export_job_for_an_unknown_tenant_is_dropped_not_retried(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    job = ExportJob(tenant_id=GONE, connector="csv", connection="ar_invoices", period="2025-W44")
    result, visibility, counted = dropped("ExportFunction", {"Records": [record(job.model_dump_json(), job.group_id)]})
    assert result == {"batchItemFailures": []}
    assert visibility == []
    assert {"name": "UnknownTenantJobs", "unit": MetricUnit.Count, "value": 1} in counted
    assert "export job for an unknown tenant dropped" in caplog.text
