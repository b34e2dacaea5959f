"""boto3 clients, one per process and service. The endpoint comes from AWS_ENDPOINT_URL when set (moto
locally), which boto3 honours by itself: no code here knows whether it talks to moto or to AWS."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

_BOTO = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@cache
def client(service: str) -> Any:
    if service == "s3":
        # SigV4 so presigned links carry X-Amz-Expires; path style works against moto and AWS alike.
        s3_config = _BOTO.merge(BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}))
        return boto3.session.Session().client("s3", config=s3_config)
    return boto3.session.Session().client(service, config=_BOTO)  # type: ignore[call-overload]


@cache
def table(name: str) -> Any:
    return boto3.resource("dynamodb", config=_BOTO).Table(name)


def reset() -> None:
    """Forget cached clients (tests start a fresh moto between cases)."""
    client.cache_clear()
    table.cache_clear()
