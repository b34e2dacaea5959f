"""SQS adapter: publish sync jobs to their target's FIFO queue, in batches of 10 (the SQS maximum)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.errors import TransientError
from ledgerbridge.jobs import SyncJob


def publish_jobs(jobs: Sequence[SyncJob]) -> None:
    by_queue: dict[str, list[SyncJob]] = defaultdict(list)
    cfg = get_config()
    for job in jobs:
        by_queue[cfg.sync_queue_url(job.target)].append(job)
    sqs = aws.client("sqs")
    for url, queued in by_queue.items():
        for start in range(0, len(queued), 10):
            chunk = queued[start : start + 10]
            resp = sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {
                        "Id": str(i),
                        "MessageBody": job.model_dump_json(),
                        "MessageGroupId": job.group_id,
                        "MessageDeduplicationId": job.event_id,
                    }
                    for i, job in enumerate(chunk)
                ],
            )
            if resp.get("Failed"):
                raise TransientError(f"SQS refused {len(resp['Failed'])} message(s): {resp['Failed'][0]}")
