"""What Lambda's event source mapping and EventBridge Scheduler do, for the local stack.

SQS: receive up to BatchSize messages with all attributes, hand them to the consumer as a real SQS event,
delete the ones not named in batchItemFailures (all of them if the handler raised nothing, none if it
raised, crashed or timed out). Failed messages stay in flight until their visibility timeout ends (the
consumer may shorten it to back off), and the queue's own redrive policy moves them to the DLQ after
maxReceiveCount, as in AWS.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from sandbox.stack.functions import Invoke, invoke
from sandbox.stack.provision import REGION, Provisioned
from sandbox.stack.template import QueueSource, ScheduleSource


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    records = []
    for m in messages:
        attrs = {k: v for k, v in m.get("Attributes", {}).items()}
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": attrs,
                "messageAttributes": {
                    k: {
                        "stringValue": v.get("StringValue"),
                        "binaryValue": v.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v["DataType"],
                    }
                    for k, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


class QueuePoller:
    def __init__(self, stack: Provisioned, source: QueueSource, invoke: Invoke = invoke) -> None:
        self.source = source
        self.invoke = invoke
        self.url = stack.queue_url(source.queue)
        self.arn = stack.attrs[source.queue]["Arn"]
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.invocations = 0
        self.errors: list[str] = []

    def poll_once(self) -> int:
        """One receive + invoke + delete round. Returns how many messages were handed to the function."""
        resp = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=self.source.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = list(resp.get("Messages", []))  # type: ignore[arg-type]
        if not messages:
            return 0
        self.invocations += 1
        try:
            result = self.invoke(self.source.function, sqs_event(messages, self.arn))
        except Exception as exc:  # the whole batch failed: nothing is deleted, as in Lambda
            self.errors.append(f"{self.source.function}: {exc!r}")
            return len(messages)
        failed = set()
        if self.source.report_failures and isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        return len(messages)

    def backlog(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def scheduled_input(source: ScheduleSource, at: datetime | None = None) -> dict[str, Any]:
    """The schedule's Input with Scheduler's context attributes filled in, as ScheduleV2 delivers it."""
    when = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = source.input.replace("<aws.scheduler.scheduled-time>", when).replace(
        "<aws.scheduler.execution-id>", str(uuid.uuid4())
    )
    text = text.replace(
        "<aws.scheduler.schedule-arn>",
        f"arn:aws:scheduler:{REGION}:123456789012:schedule/default/{source.name}",
    )
    value: dict[str, Any] = json.loads(text)
    return value


def fire(source: ScheduleSource, at: datetime | None = None, invoke: Invoke = invoke) -> Any:
    return invoke(source.function, scheduled_input(source, at))


class Background:
    """Runs each poller in its own daemon thread until stopped (for `ledgerbridge local serve`), as each
    event source mapping polls on its own: a long batch on one queue does not hold up the others."""

    def __init__(self, pollers: list[QueuePoller], idle_sleep: float = 0.2) -> None:
        self.idle_sleep = idle_sleep
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(p,), name=f"sqs-poller-{p.source.queue}", daemon=True)
            for p in pollers
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self, poller: QueuePoller) -> None:
        while not self._stop.is_set():
            if not poller.poll_once():
                self._stop.wait(self.idle_sleep)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
