"""Each function's handler, imported into this process: the harness for tests that patch code and run
moto in-process. The local stack does not use it: there every function runs in its own execution
environment (sandbox.stack.environments), as in Lambda."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from sandbox.stack.template import load

Handler = Callable[[dict[str, Any], Any], Any]
Invoke = Callable[[str, dict[str, Any]], Any]  # (function logical id, event) -> result, or raises


@cache
def handler(function: str) -> Handler:
    """The handler of a template function (logical id), imported once per process."""
    t = load()
    path = t.code_dir(function) / "app.py"
    handler_name = t.functions[function]["Properties"].get("Handler", "app.lambda_handler").split(".")[-1]
    module_name = f"lb_function_{path.parent.name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    fn: Handler = getattr(module, handler_name)
    return fn


def by_folder(folder: str) -> str:
    """Logical id of the function whose CodeUri ends in `folder`."""
    t = load()
    return next(name for name, f in t.functions.items() if f["Properties"]["CodeUri"].rstrip("/").endswith(folder))


class LocalContext:
    """The parts of the Lambda context object that Powertools and the handlers read."""

    def __init__(self, function: str, timeout_s: int = 30, memory_mb: int = 512) -> None:
        self.function_name = function
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_locks: dict[str, threading.Lock] = {}


def invoke(function: str, event: dict[str, Any]) -> Any:
    """Call a function's handler in this process with a fresh context, as one Lambda invocation.
    Invocations of one function never overlap, as with reserved concurrency 1."""
    lock = _locks.setdefault(function, threading.Lock())
    context = LocalContext(function, load().timeout_s(function), load().memory_mb(function))
    with lock:
        return handler(function)(event, context)
