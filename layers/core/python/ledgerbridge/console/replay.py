"""Dead letters: sync jobs that exhausted their retries, listed per tenant and sent back to their queue.

A replayed message keeps its body, so its event id (the sync function's idempotency key) and every
record-level handle are the originals: a job that in fact went through is not run again, and one that did
not creates its record once. The DLQ is found from the queue's own RedrivePolicy, so nothing new is
configured. DLQs are shared by tenants: listing receives messages briefly (visibility 30 s) and hands every
message back at once, except those replayed; a tenant only ever sees and moves its own.

SQS FIFO returns one message per message group at a time, so a record with several dead jobs shows the
oldest first; replay it and the next appears (Amazon SQS Developer Guide, FIFO delivery logic).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.jobs import SyncJob
from ledgerbridge.queues import FifoMessage, send_fifo

PEEK_VISIBILITY_S = 30
MAX_LISTED = 200


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    job: SyncJob
    sent_at: str  # when the job first entered the sync queue (ISO-8601 UTC)
    receives: int


def dlq_url(queue_url: str) -> str:
    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = json.loads(attrs.get("Attributes", {}).get("RedrivePolicy") or "{}")
    arn = str(policy.get("deadLetterTargetArn", ""))
    if not arn:
        raise LookupError(f"queue {queue_url} has no dead-letter queue")
    *_, account, name = arn.split(":", 5)
    return str(aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def _peek(url: str) -> Iterable[dict[str, Any]]:
    sqs = aws.client("sqs")
    seen = 0
    while seen < MAX_LISTED:
        resp = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=PEEK_VISIBILITY_S, AttributeNames=["All"]
        )
        messages = resp.get("Messages", [])
        if not messages:
            return
        seen += len(messages)
        yield from messages


def _parse(message: dict[str, Any]) -> DeadLetter | None:
    try:
        job = SyncJob.model_validate_json(message["Body"])
    except ValidationError:
        return None
    attrs = message.get("Attributes", {})
    sent_ms = int(attrs.get("SentTimestamp", "0") or 0)
    sent = datetime.fromtimestamp(sent_ms / 1000, UTC).isoformat(timespec="seconds") if sent_ms else ""
    return DeadLetter(message["MessageId"], job, sent, int(attrs.get("ApproximateReceiveCount", "0") or 0))


def _targets(targets: Iterable[str]) -> list[tuple[str, str, str]]:
    """(target, sync queue url, its DLQ url) for each target with a queue configured."""
    cfg = get_config()
    out = []
    for target in targets:
        url = cfg.sync_queue_url(target)
        if url:
            out.append((target, url, dlq_url(url)))
    return out


def _visit(tenant_id: str, targets: Iterable[str], replay: set[str] | None) -> tuple[list[DeadLetter], int]:
    """List (replay=None) or replay the named messages (an empty set: all of the tenant's). Every message
    not replayed is made visible again before returning."""
    sqs = aws.client("sqs")
    listed: list[DeadLetter] = []
    moved = 0
    for _target, queue_url, dead_url in _targets(targets):
        release: list[dict[str, Any]] = []
        try:
            for message in _peek(dead_url):
                letter = _parse(message)
                if letter is None or letter.job.tenant_id != tenant_id:
                    release.append(message)
                    continue
                if replay is not None and (not replay or letter.message_id in replay):
                    _send_back(queue_url, letter, message["Body"])
                    sqs.delete_message(QueueUrl=dead_url, ReceiptHandle=message["ReceiptHandle"])
                    moved += 1
                else:
                    listed.append(letter)
                    release.append(message)
        finally:
            for message in release:
                sqs.change_message_visibility(
                    QueueUrl=dead_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    return listed, moved


def _send_back(queue_url: str, letter: DeadLetter, body: str) -> None:
    # The dedupe id is new (the original's may still be inside FIFO's 5-minute window, which would drop
    # the replay silently) but stable per dead message; the body, and so the event id, is untouched.
    dedupe = hashlib.sha256(f"replay/{letter.message_id}".encode()).hexdigest()[:64]
    send_fifo(queue_url, [FifoMessage(body, letter.job.group_id, dedupe)])


def dead_letters(tenant_id: str, targets: Iterable[str]) -> list[DeadLetter]:
    return _visit(tenant_id, targets, None)[0]


def replay(tenant_id: str, targets: Iterable[str], message_ids: Iterable[str] = ()) -> int:
    """Send the named dead letters (none named: all of the tenant's) back to their queue; returns how many."""
    return _visit(tenant_id, targets, set(message_ids))[1]


def public(letter: DeadLetter) -> dict[str, Any]:
    return {
        "message_id": letter.message_id,
        "sent_at": letter.sent_at,
        "receives": letter.receives,
        "job": letter.job.model_dump(mode="json"),
    }
