"""One Logger, Metrics and Tracer per process (the metrics namespace comes from the environment).

The service is named here, not only in the environment: modules import the logger before a local stack or a
test sets the environment, and its stdlib logger must be `ledgerbridge` (whose level they set) all the same."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="ledgerbridge")
metrics = Metrics()
tracer = Tracer()
