"""Create every table, queue, bucket and secret that template.yaml declares, in whatever AWS the current
boto3 endpoint points at (moto locally), and work out each function's environment from the template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from sandbox.stack.template import Template, load

REGION = "us-east-1"


@dataclass
class Provisioned:
    physical: dict[str, str]  # logical id -> name / URL as !Ref gives it
    attrs: dict[str, dict[str, str]]  # logical id -> {Arn, QueueName, ...}
    template: Template

    def env(self, function: str) -> dict[str, str]:
        return self.template.function_env(function, self.physical, self.attrs)

    def all_env(self) -> dict[str, str]:
        """Every function's environment, merged: for the operator's process (tests, demo seeding, CLI),
        which stands in for all of them at once; each function's own process gets only env()."""
        merged: dict[str, str] = {}
        for function in self.template.functions:
            merged.update(self.env(function))
        return merged

    def queue_url(self, logical: str) -> str:
        return self.physical[logical]


def _tables(t: Template, physical: dict[str, str], attrs: dict[str, dict[str, str]], prefix: str) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    for logical, res in t.resources("AWS::DynamoDB::Table").items():
        p = res["Properties"]
        name = f"{prefix}-{logical}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in p:
            kwargs["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        ddb.create_table(**kwargs)
        if "TimeToLiveSpecification" in p:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=p["TimeToLiveSpecification"])
        physical[logical] = name
        attrs[logical] = {"Arn": f"arn:aws:dynamodb:{REGION}:123456789012:table/{name}"}


def _queues(t: Template, physical: dict[str, str], attrs: dict[str, dict[str, str]], prefix: str) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queues = t.resources("AWS::SQS::Queue")
    # DLQs first, so a RedrivePolicy can name the DLQ's real ARN.
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]["Properties"])
    for logical in ordered:
        p = queues[logical]["Properties"]
        fifo = bool(p.get("FifoQueue"))
        name = f"{prefix}-{logical}" + (".fifo" if fifo else "")
        qattrs: dict[str, str] = {}
        for key in (
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
        ):
            if key in p:
                value = p[key]
                qattrs[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in p:
            rp = p["RedrivePolicy"]
            qattrs["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": t.resolve(rp["deadLetterTargetArn"], physical, attrs),
                    "maxReceiveCount": str(rp["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=name, Attributes=qattrs)["QueueUrl"]  # type: ignore[arg-type]
        physical[logical] = url
        attrs[logical] = {"Arn": f"arn:aws:sqs:{REGION}:123456789012:{name}", "QueueName": name}


def _buckets(t: Template, physical: dict[str, str], attrs: dict[str, dict[str, str]], prefix: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for logical, res in t.resources("AWS::S3::Bucket").items():
        name = f"{prefix}-{logical}".lower()
        s3.create_bucket(Bucket=name)
        p = res["Properties"]
        if "LifecycleConfiguration" in p:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": r["Id"],
                            "Status": r["Status"],
                            "Filter": {"Prefix": ""},
                            "Expiration": {"Days": r["ExpirationInDays"]},
                        }
                        for r in p["LifecycleConfiguration"]["Rules"]
                    ]
                },
            )
        physical[logical] = name
        attrs[logical] = {"Arn": f"arn:aws:s3:::{name}"}


def _secrets(t: Template, physical: dict[str, str], attrs: dict[str, dict[str, str]], values: dict[str, str]) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    for logical, res in t.resources("AWS::SecretsManager::Secret").items():
        p = res["Properties"]
        name = t.resolve(p["Name"], physical, attrs)
        secret = values.get(logical, p.get("SecretString", "{}"))
        arn = sm.create_secret(Name=name, SecretString=secret)["ARN"]
        physical[logical] = arn
        attrs[logical] = {"Id": arn}


def provision(
    prefix: str = "ledgerbridge",
    secret_values: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> Provisioned:
    """Create the template's stateful resources. `secret_values` overrides a secret's SecretString by
    logical id (the local stack fills in the sandboxes' demo app keys); `parameters` overrides template
    parameters (the local stack points QboApiBaseUrl at its sandbox)."""
    base = load()
    t = Template(raw=base.raw, parameters={**base.parameters, **(parameters or {})})
    physical: dict[str, str] = {}
    attrs: dict[str, dict[str, str]] = {}
    physical["Api"] = "local-api"
    _tables(t, physical, attrs, prefix)
    _queues(t, physical, attrs, prefix)
    _buckets(t, physical, attrs, prefix)
    _secrets(t, physical, attrs, secret_values or {})
    for logical in t.resources("AWS::Serverless::LayerVersion"):
        physical[logical] = f"arn:aws:lambda:{REGION}:123456789012:layer:{logical}:1"
    return Provisioned(physical=physical, attrs=attrs, template=t)
