"""The least-privilege proof's own evaluator and call-to-IAM mapping (iam_policy) decide what they should."""

from __future__ import annotations

import json

import pytest

from tests.infrastructure.iam_policy import Grant, allowed, grants, iam_requests, matches, statements, used

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/ledgerbridge-StateTable"
SECRETS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ledgerbridge/dev/*"


def _policy(*stmts: dict[str, object]) -> dict[str, dict[str, object]]:
    return {"P": {"Statement": list(stmts)}}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("sqs:SendMessage*", "sqs:SendMessage", True),
        ("sqs:SendMessage*", "sqs:SendMessageBatch", True),
        ("sqs:SendMessage*", "sqs:ReceiveMessage", False),
        ("s3:Get?bject", "s3:GetObject", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b.csv", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket-other", False),
        ("table/a.b", "table/aXb", False),  # a dot is a dot, not a regex
    ],
)
def test_wildcards_match_as_iam_does(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_actions_match_case_insensitively_and_resources_case_sensitively() -> None:
    policy = statements(_policy({"Effect": "Allow", "Action": "DynamoDB:getitem", "Resource": TABLE}))
    assert allowed(policy, "dynamodb:GetItem", TABLE)
    assert not allowed(policy, "dynamodb:GetItem", TABLE.replace("StateTable", "statetable"))


def test_an_action_or_a_resource_not_named_is_denied() -> None:
    policy = statements(_policy({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [TABLE]}))
    assert allowed(policy, "dynamodb:GetItem", TABLE)
    assert not allowed(policy, "dynamodb:PutItem", TABLE)
    assert not allowed(policy, "dynamodb:GetItem", TABLE + "-other")


def test_an_explicit_deny_wins() -> None:
    policy = statements(
        _policy(
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": SECRETS},
            {"Effect": "Deny", "Action": "secretsmanager:CreateSecret", "Resource": "*"},
        )
    )
    secret = SECRETS.replace("*", "tenants/a/qbo-AbCdEf")
    assert allowed(policy, "secretsmanager:GetSecretValue", secret)
    assert not allowed(policy, "secretsmanager:CreateSecret", secret)


@pytest.mark.parametrize("key", ["NotAction", "NotResource", "Condition"])
def test_elements_it_does_not_evaluate_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        statements(_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*", key: "x"}))


def test_grants_are_action_resource_pairs_and_used_means_some_request_matches() -> None:
    policy = statements(
        _policy({"Effect": "Allow", "Action": ["sqs:SendMessage*", "sqs:GetQueueUrl"], "Resource": "q"})
    )
    assert grants(policy) == [Grant("sqs:SendMessage*", "q", "P"), Grant("sqs:GetQueueUrl", "q", "P")]
    assert used(grants(policy)[0], [("sqs:SendMessage", "q")])
    assert not used(grants(policy)[1], [("sqs:SendMessage", "q"), ("sqs:GetQueueUrl", "other")])


def _json(params: dict[str, object]) -> bytes:
    return json.dumps(params).encode()


def test_dynamodb_calls_name_their_table_or_index() -> None:
    assert iam_requests("dynamodb:GetItem", "us-east-1", _json({"TableName": "ledgerbridge-StateTable"}), {}) == [
        ("dynamodb:GetItem", TABLE)
    ]
    query = _json({"TableName": "ledgerbridge-StateTable", "IndexName": "byDate"})
    assert iam_requests("dynamodb:Query", "us-east-1", query, {}) == [("dynamodb:Query", TABLE + "/index/byDate")]
    batch = _json({"RequestItems": {"ledgerbridge-StateTable": [], "other": []}})
    assert [r for _, r in iam_requests("dynamodb:BatchWriteItem", "us-east-1", batch, {})] == [
        TABLE,
        TABLE.replace("ledgerbridge-StateTable", "other"),
    ]


def test_a_transaction_needs_each_items_own_action() -> None:
    items = [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}, {"Delete": {"TableName": "u"}}]
    needs = iam_requests("dynamodb:TransactWriteItems", "us-east-1", _json({"TransactItems": items}), {})
    assert [a for a, _ in needs] == ["dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"]
    assert needs[2][1].endswith(":table/u")


def test_sqs_calls_name_the_queue_arn_and_batches_need_the_single_action() -> None:
    body = _json({"QueueUrl": "http://127.0.0.1:5000/123456789012/jobs.fifo", "Entries": []})
    assert iam_requests("sqs:SendMessageBatch", "us-east-1", body, {}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:jobs.fifo")
    ]
    # the query protocol's form fields work too
    form = {"QueueName": ["jobs.fifo"]}
    assert iam_requests("sqs:GetQueueUrl", "us-east-1", b"", form) == [
        ("sqs:GetQueueUrl", "arn:aws:sqs:us-east-1:123456789012:jobs.fifo")
    ]


def test_secrets_are_named_by_arn_with_the_random_suffix() -> None:
    (by_name,) = iam_requests(
        "secretsmanager:GetSecretValue", "us-east-1", _json({"SecretId": "ledgerbridge/dev/a"}), {}
    )
    assert by_name[1] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:ledgerbridge/dev/a-AbCdEf"
    assert matches(SECRETS, by_name[1])
    (created,) = iam_requests("secretsmanager:CreateSecret", "us-east-1", _json({"Name": "ledgerbridge/x"}), {})
    assert created[1].endswith(":secret:ledgerbridge/x-AbCdEf")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-123456"
    assert iam_requests("secretsmanager:DescribeSecret", "us-east-1", _json({"SecretId": arn}), {})[0][1] == arn


def test_s3_uses_the_resource_moto_parsed_and_iams_action_names() -> None:
    key = "arn:aws:s3:::bucket/a.csv"
    assert iam_requests("s3:UploadPart", "us-east-1", b"", {}, key) == [("s3:PutObject", key)]
    assert iam_requests("s3:GetObject", "us-east-1", b"", {}, key) == [("s3:GetObject", key)]


def test_calls_needing_no_permission_or_of_unknown_services() -> None:
    assert iam_requests("sts:GetCallerIdentity", "us-east-1", b"", {}) == []
    with pytest.raises(ValueError, match="lambda:Invoke"):
        iam_requests("lambda:Invoke", "us-east-1", b"{}", {})
