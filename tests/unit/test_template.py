"""template.yaml translates with aws-sam-translator and its CloudFormation lints clean, offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]  # type: ignore[index]
        for a in res.values()
        if a["Type"] == "AWS::CloudWatch::Alarm" and "Dimensions" in a["Properties"]  # type: ignore[operator]
    }
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
