"""Read template.yaml and resolve the few intrinsic functions the local stack needs.

The template is the single source of truth: tables, queues, buckets, secrets and every function's
environment are read from it, never repeated by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LAMBDA_DEFAULT_TIMEOUT_S = 3
LAMBDA_DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class ApiRoute:
    function: str  # logical id
    method: str
    path: str  # /webhooks/{tenant_id}
    iam_auth: bool


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str  # logical id of the queue
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    name: str
    expression: str
    input: str


@dataclass
class Template:
    raw: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == type_}

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        return self.resources("AWS::Serverless::Function")

    def code_dir(self, function: str) -> Path:
        return ROOT / str(self.functions[function]["Properties"]["CodeUri"])

    def setting(self, function: str, key: str, default: Any) -> Any:
        """A function property as SAM resolves it: the function's own, else Globals' (else Lambda's default)."""
        globals_fn = self.raw.get("Globals", {}).get("Function", {})
        return self.functions[function]["Properties"].get(key, globals_fn.get(key, default))

    def timeout_s(self, function: str) -> int:
        return int(self.setting(function, "Timeout", LAMBDA_DEFAULT_TIMEOUT_S))

    def memory_mb(self, function: str) -> int:
        return int(self.setting(function, "MemorySize", LAMBDA_DEFAULT_MEMORY_MB))

    def concurrency(self, function: str) -> int | None:
        """The most environments Lambda would run at once for this function, where the template says:
        its reserved concurrency, else the largest MaximumConcurrency of its SQS event sources."""
        reserved = self.setting(function, "ReservedConcurrentExecutions", None)
        if reserved is not None:
            return int(reserved)
        limits = [
            int(ev["Properties"]["ScalingConfig"]["MaximumConcurrency"])
            for ev in self.functions[function]["Properties"].get("Events", {}).values()
            if ev["Type"] == "SQS" and "MaximumConcurrency" in ev["Properties"].get("ScalingConfig", {})
        ]
        return max(limits) if limits else None

    def function_env(self, function: str, physical: dict[str, str], attrs: dict[str, dict[str, str]]) -> dict[str, str]:
        """Globals environment merged with the function's own, as SAM merges them."""
        merged: dict[str, Any] = dict(
            self.raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        own = self.functions[function]["Properties"].get("Environment", {}).get("Variables", {})
        merged.update(own)
        return {k: str(self.resolve(v, physical, attrs)) for k, v in merged.items()}

    def _events(self, type_: str) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for fname, fn in self.functions.items():
            for ename, ev in fn["Properties"].get("Events", {}).items():
                if ev["Type"] == type_:
                    out.append((fname, ename, ev["Properties"]))
        return out

    def api_routes(self) -> list[ApiRoute]:
        return [
            ApiRoute(
                function=f,
                method=p["Method"].upper(),
                path=p["Path"],
                iam_auth=p.get("Auth", {}).get("Authorizer") == "AWS_IAM",
            )
            for f, _, p in self._events("Api")
        ]

    def queue_sources(self) -> list[QueueSource]:
        return [
            QueueSource(
                function=f,
                queue=p["Queue"]["Fn::GetAtt"][0],
                batch_size=int(p.get("BatchSize", 10)),
                report_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
            )
            for f, _, p in self._events("SQS")
        ]

    def schedules(self) -> list[ScheduleSource]:
        return [
            ScheduleSource(function=f, name=e, expression=p["ScheduleExpression"], input=p.get("Input", "{}"))
            for f, e, p in self._events("ScheduleV2")
        ]

    def resolve(self, value: Any, physical: dict[str, str], attrs: dict[str, dict[str, str]]) -> Any:
        """Ref / GetAtt / Sub against local physical names; AWS pseudo parameters get local stand-ins."""
        pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.parameters.get(arg) or pseudo.get(arg) or physical[arg]
            if fn == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return attrs[name][attr]
            if fn == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]

                def sub(m: re.Match[str]) -> str:
                    key = m.group(1)
                    if "." in key:
                        name, attr = key.split(".", 1)
                        return attrs[name][attr]
                    return str(self.parameters.get(key) or pseudo.get(key) or physical[key])

                return re.sub(r"\$\{([^}]+)\}", sub, text)
        return value


@cache
def load(path: Path = TEMPLATE) -> Template:
    raw = yaml_parse(path.read_text())
    params = {k: str(v.get("Default", "")) for k, v in raw.get("Parameters", {}).items()}
    return Template(raw=raw, parameters=params)
