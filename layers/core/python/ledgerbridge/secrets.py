"""Secrets Manager adapter. Reads go through Powertools parameters (cached per process, 5 min); writes
create the secret on first use. Nothing here logs a secret value."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

from ledgerbridge import aws
from ledgerbridge.errors import NotFound


def read_json(name: str, fresh: bool = False) -> dict[str, Any]:
    try:
        value = parameters.get_secret(name, transform="json", force_fetch=fresh)
    except parameters.exceptions.GetParameterError as exc:
        raise NotFound(f"secret {name!r} does not exist or cannot be read") from exc
    if not isinstance(value, dict):
        raise NotFound(f"secret {name!r} is not a JSON object")
    return value


def write_json(name: str, value: dict[str, Any]) -> None:
    sm = aws.client("secretsmanager")
    body = json.dumps(value)
    try:
        sm.put_secret_value(SecretId=name, SecretString=body)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=name, SecretString=body)


def write_text(name: str, value: str) -> None:
    sm = aws.client("secretsmanager")
    try:
        sm.put_secret_value(SecretId=name, SecretString=value)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=name, SecretString=value)
