"""Cold start: each handler's module import, against `import boto3` + one client, in fresh interpreters.

    .venv/bin/python -m bench.coldstart        or  run() -> [{name, value, unit}] for `make bench`

Each figure is the least CPU time of ROUNDS fresh interpreters timing only the import (start-up excluded). CPU
time, not wall, and the least of several: other load on the machine can only add to it (cache and core
contention), never take away. Every round times the baseline and then every handler, so a change of load
during the run weighs on both sides of the ratio alike. Target: a handler's import costs at most twice
what any boto3 function pays anyway (ratio <= 2.0); heavy modules that serve one path are imported there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7
BASELINE = "import boto3; boto3.client('sqs', region_name='us-east-1')"
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "ledgerbridge",
    "POWERTOOLS_METRICS_NAMESPACE": "LedgerBridge",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "STATE_TABLE": "bench",
    "IDEMPOTENCY_TABLE": "bench",
    "FILE_DROP_BUCKET": "bench",
    "EXPORT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench.fifo",
}
# Tracing on, as in Lambda with `Tracing: Active`: the X-Ray SDK is imported (and patches botocore and requests).
# Shown for one handler beside the figures above; the ratio is taken with tracing off, as the local stack runs.
TRACED = "sync_qbo"
TRACING_ON = {**ENV, "POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": "/var/task"}
TIMER = """
import sys, time
sys.path[:0] = {paths!r}
started = time.process_time()
{code}
print(time.process_time() - started)
"""


def _time(code: str, paths: list[str], env: dict[str, str] = ENV) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(paths=paths, code=code)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run() -> list[dict[str, Any]]:
    layer = str(ROOT / "layers/core/python")
    apps = sorted((ROOT / "functions").glob("*/app.py"))
    samples: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        samples.setdefault("boto3_plus_client", []).append(_time(BASELINE, [layer]))
        for app in apps:
            samples.setdefault(app.parent.name, []).append(_time("import app", [str(app.parent), layer]))
        traced = _time("import app", [str(ROOT / "functions" / TRACED), layer], TRACING_ON)
        samples.setdefault(f"{TRACED}_with_xray", []).append(traced)
    least = {name: min(values) for name, values in samples.items()}
    baseline = least.pop("boto3_plus_client")
    with_xray = least.pop(f"{TRACED}_with_xray")
    results: list[dict[str, Any]] = [
        {"name": "coldstart.boto3_plus_client", "value": round(baseline * 1000, 1), "unit": "ms"}
    ]
    results += [{"name": f"coldstart.{name}", "value": round(s * 1000, 1), "unit": "ms"} for name, s in least.items()]
    worst = max(least.values()) / baseline
    results.append(
        {"name": "coldstart.worst_handler_vs_boto3", "value": round(worst, 2), "unit": "ratio (target <= 2.0)"}
    )
    results.append(
        {"name": f"coldstart.{TRACED}_with_xray", "value": round(with_xray * 1000, 1), "unit": "ms (not in the ratio)"}
    )
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
