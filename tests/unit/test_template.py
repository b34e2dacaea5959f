"""template.yaml translates with aws-sam-translator and its CloudFormation lints clean, offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.template_tools import translate

ROOT = Path(__file__).resolve().parents[2]


def _lint(cfn: dict[str, object], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "cfn.json"
    out.write_text(json.dumps(cfn, default=str))
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--regions", "us-east-1", "--", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_template_translates_and_lints_with_zero_findings(tmp_path: Path) -> None:
    cfn = translate(ROOT / "template.yaml")
    result = _lint(cfn, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_catches_a_broken_reference(tmp_path: Path) -> None:
    """The check can fail: a misspelt !Ref that cfn-lint on the raw SAM file would miss is caught."""
    broken = (ROOT / "template.yaml").read_text().replace("!Ref StateTable\n", "!Ref StateTabel\n", 1)
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    result = _lint(translate(path), tmp_path)
    assert result.returncode != 0
    assert "StateTabel" in result.stdout


def _cfn() -> dict[str, dict[str, dict[str, object]]]:
    return translate(ROOT / "template.yaml")  # type: ignore[return-value]


def test_queues_are_fifo_with_fifo_dlqs_and_every_dlq_has_an_alarm() -> None:
    res = _cfn()["Resources"]
    queues = {k: v for k, v in res.items() if v["Type"] == "AWS::SQS::Queue"}
    work = {k: v for k, v in queues.items() if "RedrivePolicy" in v["Properties"]}  # type: ignore[operator]
    assert set(work) == {"QboSyncQueue", "QbdSyncQueue", "IntacctSyncQueue", "ExportQueue"}
    alarmed = {ref for _, ref in _alarmed(res)}
    for name, q in work.items():
        props = q["Properties"]
        assert props["FifoQueue"] is True  # type: ignore[index]
        dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]  # type: ignore[index]
        assert queues[dlq]["Properties"]["FifoQueue"] is True  # type: ignore[index]
        assert props["RedrivePolicy"]["maxReceiveCount"] == 5  # type: ignore[index]
        assert dlq in alarmed, f"{name}'s DLQ has no alarm"


def test_sqs_consumers_report_partial_batch_failures() -> None:
    mappings = [v for v in _cfn()["Resources"].values() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == 4
    for m in mappings:
        assert m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # type: ignore[index]


def test_admin_routes_are_iam_authorized_and_others_are_not() -> None:
    api = next(v for v in _cfn()["Resources"].values() if v["Type"] == "AWS::ApiGateway::RestApi")
    paths = api["Properties"]["Body"]["paths"]  # type: ignore[index]
    for path, methods in paths.items():
        for method, spec in methods.items():
            secured = "security" in spec and any("AWS_IAM" in s for s in spec["security"])
            assert secured == path.startswith("/admin/"), f"{method} {path}"


@pytest.mark.parametrize("table", ["StateTable", "IdempotencyTable"])
def test_tables_have_point_in_time_recovery_and_ttl(table: str) -> None:
    props = _cfn()["Resources"][table]["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"]["Enabled"] is True  # type: ignore[index]


def test_file_drop_bucket_is_private_encrypted_and_expires() -> None:
    props = _cfn()["Resources"]["FileDropBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())  # type: ignore[union-attr]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]  # type: ignore[index]
    rules = props["LifecycleConfiguration"]["Rules"]  # type: ignore[index]
    assert rules[0]["ExpirationInDays"] == 90


def test_webhooks_have_their_own_throttle_and_the_sweep_runs_every_five_minutes() -> None:
    res = _cfn()["Resources"]
    stages = [v for v in res.values() if v["Type"] == "AWS::ApiGateway::Stage"]
    settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in stages[0]["Properties"]["MethodSettings"]}  # type: ignore[index]
    hook = settings[("/~1webhooks~1{tenant_id}", "POST")]
    assert (hook["ThrottlingRateLimit"], hook["ThrottlingBurstLimit"]) == (500, 1000)
    schedules = [
        v["Properties"]
        for v in res.values()
        if v["Type"] == "AWS::Scheduler::Schedule"
        and v["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0] == "SweepFunction"  # type: ignore[index]
    ]
    assert [s["ScheduleExpression"] for s in schedules] == ["cron(0/5 * * * ? *)"]


def test_the_recovered_alarm_has_one_contributor_per_tenant() -> None:
    alarm = _cfn()["Resources"]["SweepRecoveredAlarm"]["Properties"]
    query = alarm["Metrics"][0]["Expression"]  # type: ignore[index]
    assert "SweepRecovered" in query and query.endswith("GROUP BY tenant_id")
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def _alarmed(res: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """(metric name, logical id of the resource in its first dimension) of every alarm."""
    found = set()
    for alarm in res.values():
        if alarm["Type"] != "AWS::CloudWatch::Alarm" or "Dimensions" not in alarm["Properties"]:
            continue  # a metric-math alarm (SweepRecoveredAlarm) watches no one resource
        value = alarm["Properties"]["Dimensions"][0]["Value"]
        ref = value.get("Ref") or value.get("Fn::GetAtt", [None])[0] if isinstance(value, dict) else None
        if ref:
            found.add((alarm["Properties"]["MetricName"], ref))
    return found


def _functions(res: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in res.items() if v["Type"] == "AWS::Lambda::Function"}


def test_every_function_has_an_errors_and_a_throttles_alarm_and_every_work_queue_an_age_alarm() -> None:
    """New functions and queues follow the pattern in docs/decisions.md (Alarms)."""
    res = _cfn()["Resources"]
    alarmed = _alarmed(res)
    for name in _functions(res):
        assert ("Errors", name) in alarmed, f"{name} has no Errors alarm"
        assert ("Throttles", name) in alarmed, f"{name} has no Throttles alarm"
    for name, queue in res.items():
        if queue["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in queue["Properties"]:
            assert ("ApproximateAgeOfOldestMessage", name) in alarmed, f"{name} has no age alarm"
    assert any(metric == "5XXError" for metric, _ in _alarmed_any(res))


def _alarmed_any(res: dict[str, dict[str, Any]]) -> list[tuple[str, object]]:
    return [
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"])
        for a in res.values()
        if a["Type"] == "AWS::CloudWatch::Alarm" and "MetricName" in a["Properties"]
    ]


def test_functions_run_python_3_13_log_with_retention_and_api_ones_answer_within_29_s() -> None:
    res = _cfn()["Resources"]
    api_fronted = {
        perm["Properties"]["FunctionName"]["Ref"]
        for perm in res.values()
        if perm["Type"] == "AWS::Lambda::Permission" and perm["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert api_fronted
    for name, fn in _functions(res).items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}}, name
        if name in api_fronted:
            assert props["Timeout"] <= 29, f"{name}: API Gateway gives up after 29 s"
    assert res["FunctionLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("name", ["StateTable", "IdempotencyTable", "FileDropBucket", "QboAppSecret"])
def test_data_outlives_the_stack(name: str) -> None:
    resource = _cfn()["Resources"][name]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def _statements(res: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        statement
        for role in res.values()
        if role["Type"] == "AWS::IAM::Role"
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def test_secrets_are_granted_only_under_the_stage_prefix_and_no_bucket_admin_actions() -> None:
    statements = _statements(_cfn()["Resources"])
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not {"s3:PutObjectAcl", "s3:PutLifecycleConfiguration"} & set(actions)
        if any(a.startswith("secretsmanager:") for a in actions):
            resource = json.dumps(statement["Resource"])
            # the stage's secrets, or only its tenants' (ledgerbridge/${Stage}/tenants/...)
            assert re.search(r"secret:ledgerbridge/\$\{Stage\}/(tenants/)?\*", resource), resource


def test_scheduled_functions_send_failed_runs_to_a_queue() -> None:
    res = _cfn()["Resources"]
    scheduled = {
        s["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
        for s in res.values()
        if s["Type"] == "AWS::Scheduler::Schedule"
    }
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in res.values()
        if c["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert scheduled
    for name in scheduled:
        assert configs[name]["DestinationConfig"]["OnFailure"]["Destination"], name
