"""One request budget per QBO realm, shared by every consumer: token buckets in one DynamoDB item.

QBO's published limits hold all at once (Intuit: limits and throttles): 500 requests/min per realm (batch
requests included), 10 requests/s, 10 concurrent requests, 40 batch requests/min. Each rate limit is a token
bucket; a bucket of capacity c and refill rate r admits at most c + r·W requests in any window of W seconds, so
each is sized to stay under its limit with a little headroom for the jitter between our clock and QBO's arrival
times:

    limit          capacity   rate                  most in any window   (with the defaults)
    per minute     10         (500 - 10 - 10)/60 s  490 of 500           sustained 480/min
    per second     1          10 - 1 - 1 = 8 /s     9 of 10
    batch / min    2          (40 - 2 - 1)/60 s     39 of 40             sustained 37 batches/min
    concurrent     leases with an expiry (a crashed worker's slot comes back after LEASE_S)

The item (state.keys.rate_budget) holds the tokens of the three buckets, the time they were last
refilled, a pause (set after a 429 anyway, e.g. another app on the same company), the live leases and a
revision. Every change is a put conditioned on the revision read, so concurrent consumers never both spend
the same token: the loser re-reads and tries again. Waiting happens here only up to `max_wait_s`; a longer
wait raises TransientError(retry_after) so a queued job goes back to SQS instead of sleeping in Lambda.

The low-level DynamoDB client is used (thread-safe, unlike boto3 resources), so bulk workers may share one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.errors import TransientError
from ledgerbridge.state import keys

Kind = Literal["request", "batch"]
LEASE_S = 130.0  # QBO gives up on a request after 120 s (Intuit: base URLs and timeouts)
# After a 429 anyway (another app on the company, a burst we did not see): every consumer of the realm holds
# off this long unless QBO says how long (Retry-After). The throttled request itself waits Intuit's 60 s
# (Intuit: limits and throttles) as a TransientError's retry_after; the rest of the realm only needs to let
# the burst pass.
PAUSE_ON_429_S = 2.0
CONCURRENCY_POLL_S = 0.05
EPSILON = 1e-6  # a token this close to whole is whole (stored with 6 decimals; epoch floats resolve ~1e-7 s)
MIN_SLEEP_S = 0.001


class Budget(Protocol):
    """What QboClient needs: a slot before each HTTP request, given back after it."""

    def acquire(self, kind: Kind) -> str:
        """Block until a request of `kind` is allowed; returns a lease id for release()."""
        ...

    def release(self, lease: str) -> None: ...

    def ready(self, kind: Kind) -> bool:
        """Is there a slot of the limit only `kind` has (batch: the 40/min)? Spends nothing: bulk asks before
        choosing a batch over a single write; the request limits it shares with singles are waited for after."""
        ...

    def pause(self, seconds: float) -> None:
        """QBO answered 429 anyway: nobody sends to this realm for `seconds`."""
        ...


@dataclass(frozen=True)
class Limits:
    per_minute: int = 500
    per_second: int = 10
    concurrent: int = 10
    batch_per_minute: int = 40

    def buckets(self) -> dict[str, tuple[float, float]]:
        """Bucket name -> (capacity, refill per second); see the module docstring."""
        minute_burst = max(1, self.per_minute // 50)
        minute_headroom = max(1, self.per_minute // 50)
        second_headroom = self.per_second // 10
        # Two batch tokens, so one that comes due while a batch waits for its request slot is not lost.
        batch_burst = 2 if self.batch_per_minute >= 10 else 1
        batch_headroom = max(1, self.batch_per_minute // 40)
        out = {
            "m": (float(minute_burst), (self.per_minute - minute_burst - minute_headroom) / 60.0),
            "s": (1.0, float(self.per_second - 1 - second_headroom)),
            "b": (float(batch_burst), (self.batch_per_minute - batch_burst - batch_headroom) / 60.0),
        }
        if any(rate <= 0 for _, rate in out.values()):
            raise ValueError(f"limits too small for a token bucket with headroom: {self}")
        return out

    def sustained_per_minute(self) -> tuple[float, float]:
        """(requests, batch requests) per minute the buckets allow in the long run."""
        b = self.buckets()
        return min(b["m"][1], b["s"][1]) * 60.0, b["b"][1] * 60.0


DEFAULT_LIMITS = Limits()  # what RealmBudget uses unless told otherwise (tests against a relaxed sandbox patch it)


@dataclass
class _State:
    tokens: dict[str, float]
    at: float
    paused_until: float = 0.0
    leases: dict[str, float] = field(default_factory=dict)
    rev: int = 0


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.6f}"}


class RealmBudget:
    """The budget of one realm in the state table. `clock`/`sleep` are injectable: the bench and tests run it
    on the sandbox's clock (a ManualClock whose sleep advances it, or a ScaledClock)."""

    def __init__(
        self,
        realm_id: str,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 10.0,
        table_name: str | None = None,
    ) -> None:
        self.realm_id = realm_id
        self.limits = limits or DEFAULT_LIMITS
        self._buckets = self.limits.buckets()
        self._clock = clock
        self._sleep = sleep
        self.max_wait_s = max_wait_s
        self._table = table_name or get_config().state_table
        self._ddb = aws.client("dynamodb")
        self._key = {name: {"S": value} for name, value in keys.rate_budget("qbo", realm_id).items()}
        self.waited_s = 0.0  # total time spent waiting for tokens (for the bench)
        self.conflicts = 0  # lost revision races (contention between consumers)

    # -- the item -----------------------------------------------------------------------------------------

    def _load(self, now: float) -> _State:
        item = self._ddb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get("Item")
        if item is None:
            return _State(tokens={k: cap for k, (cap, _) in self._buckets.items()}, at=now)
        leases = {k: float(v["N"]) for k, v in item.get("leases", {}).get("M", {}).items()}
        return _State(
            tokens={k: float(item[k]["N"]) if k in item else self._buckets[k][0] for k in self._buckets},
            at=float(item["at"]["N"]),
            paused_until=float(item.get("paused", {}).get("N", "0")),
            leases=leases,
            rev=int(item["rev"]["N"]),
        )

    def _save(self, st: _State) -> bool:
        item: dict[str, Any] = {
            **self._key,
            **{k: _n(v) for k, v in st.tokens.items()},
            "at": _n(st.at),
            "paused": _n(st.paused_until),
            "leases": {"M": {k: _n(v) for k, v in st.leases.items()}},
            "rev": {"N": str(st.rev + 1)},
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if st.rev == 0
            else {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": {"N": str(st.rev)}}}
        )
        try:
            self._ddb.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                self.conflicts += 1
                return False
            raise
        return True

    def _refill(self, st: _State, now: float) -> None:
        elapsed = max(0.0, now - st.at)
        for name, (cap, rate) in self._buckets.items():
            st.tokens[name] = min(cap, st.tokens[name] + rate * elapsed)
        st.at = max(st.at, now)
        st.leases = {k: v for k, v in st.leases.items() if v > now}

    def _wait_for(self, st: _State, kind: Kind, now: float, polls: int = 0) -> float:
        """Seconds until a request of `kind` could go (0: now)."""
        names = ("m", "s", "b") if kind == "batch" else ("m", "s")
        waits = [max(0.0, st.paused_until - now)]
        for name in names:
            _, rate = self._buckets[name]
            missing = 1.0 - st.tokens[name]
            waits.append(0.0 if missing <= EPSILON else missing / rate)
        if len(st.leases) >= self.limits.concurrent:  # a holder usually answers soon; poll, backing off to 1 s
            waits.append(min(1.0, CONCURRENCY_POLL_S * 2 ** min(polls, 5)))
        return max(waits)

    # -- the Budget protocol ------------------------------------------------------------------------------

    def acquire(self, kind: Kind = "request") -> str:
        waited, polls = 0.0, 0
        while True:
            now = self._clock()
            st = self._load(now)
            self._refill(st, now)
            wait = self._wait_for(st, kind, now, polls)
            if wait <= 0.0:
                for name in ("m", "s", "b") if kind == "batch" else ("m", "s"):
                    st.tokens[name] = max(0.0, st.tokens[name] - 1.0)
                lease = uuid.uuid4().hex[:12]
                st.leases[lease] = now + LEASE_S
                if self._save(st):
                    return lease
                continue  # another consumer spent from the same revision: read again
            if waited + wait > self.max_wait_s:
                raise TransientError(
                    f"QuickBooks request budget of realm {self.realm_id} is spent for the next {wait:.1f} s",
                    retry_after=wait,
                )
            wait, polls = max(wait, MIN_SLEEP_S), polls + 1
            self._sleep(wait)
            waited += wait
            self.waited_s += wait

    def ready(self, kind: Kind) -> bool:
        now = self._clock()
        st = self._load(now)
        self._refill(st, now)
        if kind == "batch":
            return st.paused_until <= now and st.tokens["b"] >= 1.0 - EPSILON
        return self._wait_for(st, kind, now) <= 0.0

    def release(self, lease: str) -> None:
        # The revision moves too, so a consumer that read the item before this can't write the lease back.
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET rev = rev + :one REMOVE leases.#lease",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#lease": lease},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def pause(self, seconds: float) -> None:
        while True:
            now = self._clock()
            st = self._load(now)
            self._refill(st, now)
            st.paused_until = max(st.paused_until, now + seconds)
            if self._save(st):
                return


def _conforms(budget: RealmBudget) -> Budget:
    return budget  # mypy checks here that RealmBudget satisfies the Budget protocol
