"""The state table in moto for a benchmark: a fresh table, the environment pointing at it, restored after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def moto_state_table(name: str) -> Iterator[None]:
    import boto3
    from moto import mock_aws

    from ledgerbridge import aws
    from ledgerbridge.config import get_config

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    saved = os.environ.get("STATE_TABLE")
    os.environ["STATE_TABLE"] = name
    try:
        with mock_aws():
            get_config.cache_clear()
            aws.reset()
            boto3.client("dynamodb", region_name="us-east-1").create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            yield
    finally:
        get_config.cache_clear()
        aws.reset()
        if saved is None:
            os.environ.pop("STATE_TABLE", None)
        else:
            os.environ["STATE_TABLE"] = saved
