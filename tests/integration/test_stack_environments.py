"""The local stack's execution environments, with toy functions: one process per environment, only the
template's variables, one invocation at a time, crashes and timeouts reported and the environment replaced."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from sandbox.stack import environments as envs
from sandbox.stack.environments import Environments, FunctionError, function_configs
from sandbox.stack.front import ApiFront
from sandbox.stack.provision import Provisioned
from sandbox.stack.template import load

TOY = """
import os, time

os.environ["NEEDED_AT_INIT"] if os.environ.get("FAIL_INIT") else None


def handler(event, context):
    action = event["action"]
    if action == "sleep":
        start = time.monotonic()
        time.sleep(event["seconds"])
        return {"pid": os.getpid(), "span": [start, time.monotonic()]}
    if action == "crash":
        os._exit(3)
    if action == "raise":
        raise ValueError("boom")
    if action == "need":
        return os.environ[event["var"]]
    if action == "not_json":
        return {1, 2}
    if action == "import":
        __import__(event["module"])
        return "imported"
    return {
        "event": event,
        "env": dict(os.environ),
        "pid": os.getpid(),
        "name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
    }
"""

TEMPLATE = """
Globals:
  Function:
    Timeout: 5
    MemorySize: 256
    Environment:
      Variables:
        SHARED: everyone
Resources:
  Alpha:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {root}/alpha
      Handler: app.handler
      MemorySize: 1024
      ReservedConcurrentExecutions: 2
      Environment: {{Variables: {{ALPHA_ONLY: a}}}}
  Beta:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {root}/beta
      Handler: app.handler
      Timeout: 1
      Environment: {{Variables: {{BETA_ONLY: b}}}}
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {root}/broken
      Handler: app.handler
      Environment: {{Variables: {{FAIL_INIT: "1"}}}}
"""
LOCAL = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}


@pytest.fixture
def functions(tmp_path: Path) -> Iterator[Environments]:
    for name in ("alpha", "beta", "broken"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(TOY)
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(root=tmp_path))
    stack = Provisioned(physical={}, attrs={}, template=load(tmp_path / "template.yaml"))
    functions = Environments(function_configs(stack), LOCAL)
    yield functions
    functions.close()
    assert not list(envs._live), "an environment outlived the stack"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_function_sees_its_template_variables_and_lambdas_and_nothing_else(
    functions: Environments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONLY_IN_THE_TEST_PROCESS", "x")
    alpha = functions.invoke("Alpha", {"action": "echo"})
    beta = functions.invoke("Beta", {"action": "echo"})
    assert alpha["pid"] != beta["pid"] != os.getpid()
    assert {alpha["env"]["SHARED"], alpha["env"]["ALPHA_ONLY"]} == {"everyone", "a"}
    assert "BETA_ONLY" not in alpha["env"] and "ALPHA_ONLY" not in beta["env"]
    assert "ONLY_IN_THE_TEST_PROCESS" not in alpha["env"]
    assert alpha["env"]["AWS_ENDPOINT_URL"] == LOCAL["AWS_ENDPOINT_URL"]
    assert alpha["env"]["AWS_LAMBDA_FUNCTION_NAME"] == alpha["name"] == "Alpha"
    assert alpha["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert (alpha["memory"], beta["memory"]) == (1024, 256)  # the function's own, else Globals'
    assert alpha["arn"].endswith(":function:Alpha")
    assert 0 < beta["remaining_ms"] <= 1000 < alpha["remaining_ms"] <= 5000


def test_code_that_needs_a_variable_its_template_does_not_give_fails(
    functions: Environments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_ONLY", "set in the test process, as the one-process stack had it")
    assert functions.invoke("Alpha", {"action": "need", "var": "ALPHA_ONLY"}) == "a"
    with pytest.raises(FunctionError) as failed:
        functions.invoke("Beta", {"action": "need", "var": "ALPHA_ONLY"})
    assert (failed.value.error_type, failed.value.error_message) == ("KeyError", "'ALPHA_ONLY'")
    assert any("os.environ[event" in line for line in failed.value.stack_trace)


def test_an_init_error_fails_the_invocation_and_is_retried_next_time(functions: Environments) -> None:
    for _ in range(2):
        with pytest.raises(FunctionError) as failed:
            functions.invoke("Broken", {"action": "echo"})
        assert (failed.value.error_type, failed.value.error_message) == ("KeyError", "'NEEDED_AT_INIT'")
    assert functions.functions["Broken"].started == 2


def test_a_handler_error_keeps_the_environment(functions: Environments) -> None:
    first = functions.invoke("Alpha", {"action": "echo"})["pid"]
    with pytest.raises(FunctionError) as failed:
        functions.invoke("Alpha", {"action": "raise"})
    assert (failed.value.error_type, failed.value.error_message) == ("ValueError", "boom")
    with pytest.raises(FunctionError) as marshal:
        functions.invoke("Alpha", {"action": "not_json"})
    assert marshal.value.error_type == "Runtime.MarshalError"
    assert functions.invoke("Alpha", {"action": "echo"})["pid"] == first


def test_the_repositorys_local_only_packages_are_not_there_as_in_lambda(functions: Environments) -> None:
    assert functions.invoke("Alpha", {"action": "import", "module": "ledgerbridge.config"}) == "imported"
    for module in ("sandbox.stack.template", "tests.helpers"):
        with pytest.raises(FunctionError) as failed:
            functions.invoke("Alpha", {"action": "import", "module": module})
        assert failed.value.error_type == "ModuleNotFoundError"


def test_a_crash_is_reported_as_lambda_does_and_the_environment_replaced(functions: Environments) -> None:
    first = functions.invoke("Alpha", {"action": "echo"})["pid"]
    with pytest.raises(FunctionError) as crashed:
        functions.invoke("Alpha", {"action": "crash"})
    assert crashed.value.error_type == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in crashed.value.error_message
    assert not alive(first)
    assert functions.invoke("Alpha", {"action": "echo"})["pid"] != first


def test_the_template_timeout_ends_the_invocation_and_the_environment(functions: Environments) -> None:
    first = functions.invoke("Beta", {"action": "echo"})["pid"]
    with pytest.raises(FunctionError) as timed_out:
        functions.invoke("Beta", {"action": "sleep", "seconds": 30})
    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert timed_out.value.error_message.endswith("Task timed out after 1.00 seconds")
    assert not alive(first)
    assert functions.invoke("Beta", {"action": "echo"})["pid"] != first


def test_one_invocation_at_a_time_per_environment_up_to_the_reserved_concurrency(functions: Environments) -> None:
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(functions.invoke("Alpha", {"action": "sleep", "seconds": 0.1})))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert functions.functions["Alpha"].started <= 2  # ReservedConcurrentExecutions: 2
    for pid in {r["pid"] for r in results}:
        spans = sorted(r["span"] for r in results if r["pid"] == pid)
        assert all(end <= next_start for (_, end), (next_start, _) in pairwise(spans))


def test_the_front_answers_502_when_the_invocation_fails_or_the_response_is_not_a_proxy_response() -> None:
    def failing(function: str, event: dict[str, Any]) -> Any:
        raise FunctionError(function, {"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"})

    for invoke in (failing, lambda function, event: "not a proxy response"):
        response = Client(ApiFront(invoke)).post("/webhooks/acme", data="{}")
        assert response.status_code == 502
        assert json.loads(response.get_data()) == {"message": "Internal server error"}


def test_a_stopped_stack_leaves_no_process_and_starts_none(functions: Environments) -> None:
    pid = functions.invoke("Alpha", {"action": "echo"})["pid"]
    functions.close()
    assert not alive(pid)
    with pytest.raises(FunctionError) as stopped:
        functions.invoke("Alpha", {"action": "echo"})
    assert stopped.value.error_type == "Local.Stopped"
