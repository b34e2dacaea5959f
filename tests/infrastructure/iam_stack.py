"""The local stack under IAM: every function runs with the credentials of a role that carries exactly the
policies the translated template gives it, and moto enforces IAM on every request; each request is recorded.

Roles get the template's inline policies only. The AWS managed policies SAM attaches
(AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess, AWSLambdaSQSQueueExecutionRole) are for the Lambda
service and the X-Ray daemon (logs, traces, the SQS event source mapping), not for the handler's code, so they
are left off: a handler that relied on them fails here.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from moto.iam.access_control import IAMRequestBase

from sandbox.stack.provision import Provisioned
from sandbox.stack.runner import LocalStack
from tests.infrastructure.iam_policy import ACCOUNT, iam_requests
from tests.template_tools import translate

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "operator"  # this process: seeding, the sandboxes' fixtures, the queue pollers standing in for Lambda


def resolve(value: Any, stack: Provisioned, subs: dict[str, str] | None = None) -> Any:
    """Ref / Fn::GetAtt / Fn::Sub of a translated template, against the resources the stack created."""
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
    names = {**stack.template.parameters, **pseudo, **stack.physical, **(subs or {})}
    if isinstance(value, list):
        return [resolve(v, stack, subs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return names[arg]
        if fn == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return stack.attrs[name][attr]
        if fn == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else arg
            variables = {**names, **{k: str(resolve(v, stack, subs)) for k, v in local.items()}}

            def sub(key: str) -> str:
                if "." in key and key not in variables:
                    name, attr = key.split(".", 1)
                    return stack.attrs[name][attr]
                return str(variables[key])

            out, rest = "", text
            while "${" in rest:
                before, _, after = rest.partition("${")
                key, _, rest = after.partition("}")
                out += before + sub(key)
            return out + rest
    return {k: resolve(v, stack, subs) for k, v in value.items()}


def role_policies(stack: Provisioned) -> dict[str, dict[str, dict[str, Any]]]:
    """function logical id -> {inline policy name -> policy document}, as the translated template gives them,
    with every reference resolved to the stack's resources."""
    cfn = translate(ROOT / "template.yaml")
    resources = cfn["Resources"]
    out = {}
    for function in stack.template.functions:
        role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = resources[role]["Properties"].get("Policies", [])
        out[function] = {p["PolicyName"]: resolve(p["PolicyDocument"], stack) for p in policies}
    return out


@dataclass(frozen=True)
class Request:
    principal: str  # the function's logical id, or OPERATOR
    action: str  # service:Operation as the call named it
    iam: tuple[tuple[str, str], ...]  # the (IAM action, resource) pairs it needs
    denied: bool


@dataclass
class Recorder:
    """Every request moto authorizes, by principal (an assumed role is named after its function)."""

    requests: list[Request] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # access key id -> function
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, check: Any) -> Any:
        recorder = self

        def check_action_permitted(request: IAMRequestBase, resource: str) -> None:
            arn = request._access_key.arn
            principal = arn.split("/")[1] if ":assumed-role/" in arn else OPERATOR
            needs = iam_requests(request._action, request._region, request._body, request._data, resource)
            action, denied = request._action, True
            try:
                # moto matches a statement's Resource only against the ARN it is given, and gives "*" for most
                # services: it is asked once per IAM request instead, with the action and ARN IAM would use.
                for request._action, arn in needs or [(action, resource)]:
                    check(request, arn)
                denied = False
            finally:
                request._action = action
                with recorder._lock:
                    recorder.requests.append(Request(principal, action, tuple(needs), denied))

        return check_action_permitted

    def presigned(self, url: str) -> None:
        """A presigned GET link: S3 authorizes it as its signer's s3:GetObject when it is used (moto does not
        check signed URLs), so it is recorded under the function whose keys signed it."""
        query = parse_qs(urlparse(url).query)
        access_key = query["X-Amz-Credential"][0].split("/")[0]
        bucket, _, key = urlparse(url).path.lstrip("/").partition("/")
        iam = (("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"),)
        with self._lock:
            self.requests.append(Request(self.keys[access_key], "s3:GetObject", iam, denied=False))

    def of(self, function: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.principal == function]


def _trust() -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@contextmanager
def enforced(stack: LocalStack, policies: dict[str, dict[str, dict[str, Any]]]) -> Iterator[Recorder]:
    """Roles for the functions (their credentials in each function's environment), an all-powerful user for
    this process, then IAM enforced by moto until the block ends; every authorized request is recorded."""
    assert stack.functions is not None
    iam, sts = boto3.client("iam"), boto3.client("sts")
    recorder = Recorder()
    for function, documents in policies.items():
        iam.create_role(RoleName=function, AssumeRolePolicyDocument=_trust())
        for name, document in documents.items():
            # SAM writes no Version; moto insists on one (IAM assumes 2008-10-17, the same for these documents).
            versioned = {"Version": "2012-10-17", **document}
            iam.put_role_policy(RoleName=function, PolicyName=name, PolicyDocument=json.dumps(versioned))
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{function}", RoleSessionName=function)
        c = creds["Credentials"]
        recorder.keys[c["AccessKeyId"]] = function
        environments = stack.functions.functions[function]
        assert not environments.started, "credentials must be set before the function's first environment starts"
        environments.local = {
            **environments.local,
            "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"],
        }
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.create_user(UserName=OPERATOR)
    iam.put_user_policy(UserName=OPERATOR, PolicyName="everything", PolicyDocument=json.dumps(everything))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(os.environ, "AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        mp.setitem(os.environ, "AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        mp.delitem(os.environ, "AWS_SESSION_TOKEN", raising=False)
        mp.setattr(IAMRequestBase, "check_action_permitted", recorder.wrap(IAMRequestBase.check_action_permitted))
        # boto3's default session keeps the credentials it first found: drop it with the cached clients.
        mp.setattr(boto3, "DEFAULT_SESSION", None)
        from tests.conftest import reset_caches

        reset_caches()
        for poller in stack.pollers:  # the event source mappings' stand-ins poll with this process's keys
            mp.setattr(poller, "sqs", boto3.client("sqs", region_name="us-east-1"))
        _auth_after(stack, 0)
        try:
            yield recorder
        finally:
            _auth_after(stack, float("inf"))
            reset_caches()


def _auth_after(stack: LocalStack, requests_without_auth: float) -> None:
    """moto's switch: IAM is enforced once this many requests have gone unauthenticated (0: from now on)."""
    answer = requests.post(f"{stack.aws_url}/moto-api/reset-auth", data=str(requests_without_auth), timeout=10)
    answer.raise_for_status()
