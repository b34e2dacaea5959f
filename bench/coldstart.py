"""Cold start: each handler's module import, against `import boto3` + one client, in fresh interpreters.

    .venv/bin/python -m bench.coldstart        or  run() -> [{name, value, unit}] for `make bench`

Each figure is the median CPU time of RUNS fresh interpreters timing only the import (start-up excluded; CPU
time, not wall, so other load on the machine does not skew it). Target: a handler's import costs at most twice
what any boto3 function pays anyway (ratio <= 2.0); heavy modules that serve one path are imported there.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3
BASELINE = "import boto3; boto3.client('sqs', region_name='us-east-1')"
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "ledgerbridge",
    "POWERTOOLS_METRICS_NAMESPACE": "LedgerBridge",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "STATE_TABLE": "bench",
}
TIMER = """
import sys, time
sys.path[:0] = {paths!r}
started = time.process_time()
{code}
print(time.process_time() - started)
"""


def _time(code: str, paths: list[str]) -> float:
    samples = []
    env = {**os.environ, **ENV}
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", TIMER.format(paths=paths, code=code)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def run() -> list[dict[str, Any]]:
    layer = str(ROOT / "layers/core/python")
    baseline = _time(BASELINE, [layer])
    results: list[dict[str, Any]] = [
        {"name": "coldstart.boto3_plus_client", "value": round(baseline * 1000, 1), "unit": "ms"}
    ]
    worst = 0.0
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        seconds = _time("import app", [str(app.parent), layer])
        worst = max(worst, seconds / baseline)
        results.append({"name": f"coldstart.{app.parent.name}", "value": round(seconds * 1000, 1), "unit": "ms"})
    results.append(
        {"name": "coldstart.worst_handler_vs_boto3", "value": round(worst, 2), "unit": "ratio (target <= 2.0)"}
    )
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
