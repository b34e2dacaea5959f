"""What `sam build` ships runs: every built function imports in a bare interpreter of the runtime's Python with
only its built code, the built layer and boto3 on the path, and answers its sample event against a moto server.

The template's architecture is switched to this machine's for the check (the layer's wheels must load here).
Slow tier (a full `sam build`): `make test-slow`, run by CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.stack.template import load
from tests.helpers import make_tenant
from tests.integration import test_sample_events as sample_events

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("lambda_runner.py")
# What the Lambda Python runtime itself provides besides the standard library.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "dateutil", "six"]
LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("sam")
    machine = platform.machine()
    template = tmp / "template.yaml"
    template.write_text((ROOT / "template.yaml").read_text().replace("arm64", LAMBDA_ARCH[machine]))
    sam = str(Path(os.environ.get("SAM_CLI", str(ROOT / ".venv-sam/bin/sam"))).resolve())  # sam runs in tmp
    assert Path(sam).exists(), f"{sam} missing: run `make test-slow` (it installs aws-sam-cli in .venv-sam)"
    env = {
        **os.environ,
        "LAYER_ARCH": machine,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # python3.13 for the layer's Makefile
        "SAM_CLI_TELEMETRY": "0",
    }
    build_dir = tmp / "build"
    subprocess.run(
        [sam, "build", "--template", str(template), "--base-dir", str(ROOT), "--build-dir", str(build_dir)],
        check=True,
        env=env,
        cwd=tmp,
    )
    runtime = tmp / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (runtime / source.name).symlink_to(source)
    yield build_dir


def test_the_layer_ships_its_dependencies_and_not_the_runtimes_boto(built: Path) -> None:
    layer = built / "CoreLayer/python"
    shipped = {p.name for p in layer.iterdir()}
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "requests", "tzdata", "ledgerbridge"} <= shipped
    assert not {"boto3", "botocore", "s3transfer"} & shipped


def _invoker(built: Path) -> Any:
    runtime = built.parent / "runtime"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}

    def invoke(function: str, event: dict[str, Any]) -> Any:
        result = subprocess.run(
            [
                sys.executable,
                "-S",
                str(RUNNER),
                str(built / function),
                str(built / "CoreLayer/python"),
                str(runtime),
                str(load().timeout_s(function)),  # the context's remaining time starts at the template's Timeout
            ],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    return invoke


@pytest.mark.parametrize("function", sorted(sample_events.CHECKS))
def test_built_function_answers_its_sample_event(
    built: Path, moto_server: Any, monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    monkeypatch.setattr(sample_events, "invoke", _invoker(built))
    make_tenant(sample_events.TENANT)
    sample_events.CHECKS[function](moto_server)
