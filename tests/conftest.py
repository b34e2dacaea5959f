"""Shared fixtures. Nothing here can reach real AWS: fake credentials are set before anything imports boto3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "ledgerbridge",
        "POWERTOOLS_METRICS_NAMESPACE": "LedgerBridge",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def reset_caches() -> None:
    from aws_lambda_powertools.utilities import parameters

    from ledgerbridge import aws, wiring
    from ledgerbridge.config import get_config

    get_config.cache_clear()
    aws.reset()
    wiring.reset()
    parameters.clear_caches()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """moto with every resource of template.yaml, and the functions' environment set from the template."""
    from moto import mock_aws

    with mock_aws():
        yield provision_stack(monkeypatch)
    reset_caches()


def provision_stack(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every resource of template.yaml in the AWS boto3 points at, and the functions' environment set from it."""
    from sandbox.stack.provision import provision

    stack = provision()
    for function in stack.template.functions:
        for key, value in stack.env(function).items():
            monkeypatch.setenv(key, value)
    reset_caches()
    return stack
