"""A small IAM evaluator for identity policies, and the IAM requests an AWS API call makes.

moto enforces IAM on the action but matches the resource only for S3, so the least-privilege proof evaluates
every recorded call here too: Allow and Deny statements, `*` and `?` wildcards in Action (case-insensitive) and
Resource (case-sensitive), Deny winning over Allow
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). NotAction,
NotResource and Condition are refused rather than half-evaluated: the template uses none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlparse

ACCOUNT = "123456789012"

# API operations that IAM authorizes under another action's name.
# SQS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
# S3 multipart and HEAD: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
SAME_AS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
}
# DynamoDB transactions are authorized item by item, under the single-item actions:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
TRANSACT_ITEM_ACTION = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    policy: str  # the inline policy's name, to say where a grant comes from


def _strings(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def statements(policies: Mapping[str, Mapping[str, Any]]) -> list[Statement]:
    """Every statement of these policy documents (policy name -> document), normalized."""
    out = []
    for name, document in policies.items():
        raw = document["Statement"]
        for s in [raw] if isinstance(raw, dict) else raw:
            unsupported = {"NotAction", "NotResource", "Condition", "NotPrincipal"} & set(s)
            if unsupported:
                raise ValueError(f"{name}: {sorted(unsupported)} not evaluated here")
            out.append(Statement(s["Effect"], _strings(s["Action"]), _strings(s["Resource"]), name))
    return out


@cache
def _regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    return _regex(pattern, case_sensitive).match(value) is not None


def _applies(s: Statement, action: str, resource: str) -> bool:
    return any(matches(a, action, case_sensitive=False) for a in s.actions) and any(
        matches(r, resource) for r in s.resources
    )


def allowed(policy: Iterable[Statement], action: str, resource: str) -> bool:
    """An identity-policy decision: some Allow applies and no Deny does (implicit deny otherwise)."""
    applying = [s for s in policy if _applies(s, action, resource)]
    return any(s.effect == "Allow" for s in applying) and not any(s.effect == "Deny" for s in applying)


@dataclass(frozen=True)
class Grant:
    action: str  # as written in the policy (may hold wildcards)
    resource: str
    policy: str


def grants(policy: Iterable[Statement]) -> list[Grant]:
    """Every (action, resource) pair the Allow statements grant."""
    return [Grant(a, r, s.policy) for s in policy if s.effect == "Allow" for a in s.actions for r in s.resources]


def used(grant: Grant, requests: Iterable[tuple[str, str]]) -> bool:
    return any(
        matches(grant.action, action, case_sensitive=False) and matches(grant.resource, resource)
        for action, resource in requests
    )


# ------------------------------------------------------------------ what a call asks IAM for


def _params(body: bytes, form: Mapping[str, Any]) -> dict[str, Any]:
    """The call's parameters: the JSON body (JSON protocols), else the form fields (query protocol)."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed:
        return parsed
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in form.items()}


def _table(region: str, name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _queue(region: str, params: Mapping[str, Any]) -> str:
    name = params.get("QueueName") or urlparse(str(params["QueueUrl"])).path.rstrip("/").split("/")[-1]
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


def _secret(region: str, params: Mapping[str, Any]) -> str:
    secret_id = str(params.get("SecretId") or params["Name"])
    if secret_id.startswith("arn:"):
        return secret_id
    # A secret's ARN is its name and six random characters:
    # https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{secret_id}-AbCdEf"


def iam_requests(
    action: str, region: str, body: bytes, form: Mapping[str, Any], s3_resource: str = "*"
) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one API call needs, from the service:Operation moto saw and the
    call's parameters. S3's resource comes from moto, which parses bucket and key from the path itself."""
    service, operation = action.split(":", 1)
    if action in NO_PERMISSION_NEEDED:
        return []
    if service == "s3":
        return [(SAME_AS.get(action, action), s3_resource)]
    params = _params(body, form)
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in params["TransactItems"]:
                ((kind, spec),) = item.items()
                out.append((TRANSACT_ITEM_ACTION[kind], _table(region, spec["TableName"])))
            return out
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(action, _table(region, name)) for name in params["RequestItems"]]
        return [(action, _table(region, params["TableName"], params.get("IndexName")))]
    if service == "sqs":
        return [(SAME_AS.get(action, action), _queue(region, params))]
    if service == "secretsmanager":
        return [(action, _secret(region, params))]
    raise ValueError(f"no resource mapping for {action}: add the service here")
