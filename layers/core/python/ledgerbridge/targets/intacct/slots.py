"""A cap on requests in flight per Intacct company, shared by every consumer (one DynamoDB item).

Intacct's concurrency is per company and small: the old standard service level ran one API job at a time and
integrators report two concurrent requests by default (https://developer.intacct.com/support/faq/;
https://developer.sage.com/intacct/docs/developer-portal/api-essentials/txn-volume-concurrency-scaling). The
item holds live leases with an expiry (a crashed worker's slot comes back after LEASE_S) and a revision; every
change is a put conditioned on the revision read, so two consumers never take the last slot together. A wait
longer than `max_wait_s` raises TransientError, so a queued job goes back to SQS instead of sleeping in Lambda.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from botocore.exceptions import ClientError

from ledgerbridge.errors import TransientError
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state

LEASE_S = 320.0  # longer than the client's request timeout (client.REQUEST_TIMEOUT_S)
POLL_S = 0.05


class CompanySlots:
    def __init__(
        self,
        company_id: str,
        limit: int = 2,
        *,
        max_wait_s: float = 20.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = keys.concurrency_slots("intacct", company_id)
        self.limit = limit
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.sleep = sleep

    def acquire(self) -> str:
        lease = uuid.uuid4().hex
        deadline = self.clock() + self.max_wait_s
        while True:
            now = self.clock()
            item = get(self.key["pk"], self.key["sk"]) or {}
            leases = {k: float(v) for k, v in (item.get("leases") or {}).items() if float(v) > now}
            if len(leases) < self.limit and self._save(leases | {lease: now + LEASE_S}, item.get("rev")):
                return lease
            if now >= deadline:
                raise TransientError(
                    f"all {self.limit} Intacct request slots of the company are busy", retry_after=self.max_wait_s
                )
            self.sleep(POLL_S)

    def release(self, lease: str) -> None:
        for _ in range(20):
            item = get(self.key["pk"], self.key["sk"]) or {}
            leases = {k: float(v) for k, v in (item.get("leases") or {}).items() if k != lease}
            if self._save(leases, item.get("rev")):
                return

    def _save(self, leases: dict[str, float], rev: object) -> bool:
        item = {**self.key, "leases": {k: str(v) for k, v in leases.items()}, "rev": uuid.uuid4().hex}
        try:
            if rev is None:
                state().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                state().put_item(Item=item, ConditionExpression="rev = :rev", ExpressionAttributeValues={":rev": rev})
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True
