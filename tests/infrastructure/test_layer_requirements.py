"""The layer's requirements.txt: pyproject's runtime dependencies at the lock's versions, minus the runtime's boto."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import layer_requirements

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = ROOT / "layers/core/python/requirements.txt"


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_layer_requirements_are_generated_from_pyproject_and_current() -> None:
    assert LAYER_REQUIREMENTS.read_text() == layer_requirements.render(), "run `make layer-requirements`"


def test_every_runtime_dependency_ships_except_what_the_lambda_runtime_provides() -> None:
    shipped = _pins(LAYER_REQUIREMENTS.read_text())
    for req in layer_requirements.runtime_dependencies():
        name = canonicalize_name(req.name)
        if name in layer_requirements.RUNTIME_PROVIDED:
            assert name not in shipped
        else:
            assert req.specifier.contains(shipped[name]), f"{name} {shipped[name]} does not satisfy {req}"
    assert not {"boto3", "botocore", "s3transfer"} & set(shipped)
    assert "tzdata" in shipped  # zoneinfo needs it: Lambda's image has no system time zone database


def test_layer_versions_are_the_locked_ones() -> None:
    locked = _pins((ROOT / "requirements.lock").read_text())
    for name, version in _pins(LAYER_REQUIREMENTS.read_text()).items():
        assert locked.get(name) == version, f"{name}: layer {version}, lock {locked.get(name)}"


def test_dev_tools_are_pinned() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pinned = {canonicalize_name(Requirement(spec).name) for spec in dev if "==" in spec}
    assert {"ruff", "mypy", "pytest-xdist"} <= pinned
