"""One Logger, Metrics and Tracer per process (the metrics namespace comes from the environment).

The service is named here, not only in the environment: modules import the logger before a local stack or a
test sets the environment, and its stdlib logger must be `ledgerbridge` (whose level they set) all the same.

When tracing is off (POWERTOOLS_TRACE_DISABLED, or outside Lambda: Powertools' own rule), the Tracer gets a
provider that records nothing, so the X-Ray SDK is never imported: its recorder builds two botocore clients
at import, which would cost a cold start as much as boto3 itself (make bench, coldstart)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class Untraced(BaseProvider, BaseSegment):
    """Tracer's provider and segment when tracing is off: every call does nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment]:
        yield self

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment]:
        yield self

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


logger = Logger(service="ledgerbridge")
metrics = Metrics()
tracer = Tracer(provider=Untraced()) if Tracer._is_tracer_disabled() else Tracer()
