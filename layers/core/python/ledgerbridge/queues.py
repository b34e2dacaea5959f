"""SQS adapter: messages to FIFO queues in batches of 10 (the SQS maximum)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import NamedTuple

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.errors import TransientError
from ledgerbridge.jobs import SyncJob


class FifoMessage(NamedTuple):
    body: str
    group_id: str
    dedupe_id: str


def send_fifo(queue_url: str, messages: Iterable[FifoMessage]) -> int:
    """Send in batches of 10; an entry SQS refuses raises TransientError so the caller's sender retries
    (a re-sent message is dropped by FIFO deduplication). Returns how many were sent."""
    sqs = aws.client("sqs")
    pending = iter(messages)
    sent = 0
    while chunk := list(islice(pending, 10)):
        resp = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": m.body,
                    "MessageGroupId": m.group_id,
                    "MessageDeduplicationId": m.dedupe_id,
                }
                for i, m in enumerate(chunk)
            ],
        )
        failed = resp.get("Failed") or []
        if failed:
            raise TransientError(f"SQS refused {len(failed)} message(s): {failed[0].get('Message', failed[0])}")
        sent += len(chunk)
    return sent


def publish_jobs(jobs: Sequence[SyncJob]) -> None:
    """Each sync job to its target's queue (order per record: group = tenant#entity#id)."""
    by_queue: dict[str, list[SyncJob]] = defaultdict(list)
    cfg = get_config()
    for job in jobs:
        by_queue[cfg.sync_queue_url(job.target)].append(job)
    for url, queued in by_queue.items():
        send_fifo(url, (FifoMessage(job.model_dump_json(), job.group_id, job.event_id) for job in queued))
