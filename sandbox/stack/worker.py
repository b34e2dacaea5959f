"""One execution environment's runtime: the process that Lambda's Python runtime would be.

Started by sandbox.stack.environments with exactly the function's environment variables, in its code
folder (LAMBDA_TASK_ROOT). Init: put the folder first on sys.path and import the handler once. Then
serve one invocation at a time over the socket it was given, until the socket closes (the stack stopped
or went away: the process must not outlive it). Standard library only, so start-up costs only what the
function itself imports.

Wire format, one JSON document per message: the runtime sends {"ready": true} or {"error": {...}} after
init; each request is {"event", "request_id", "invoked_function_arn", "deadline_ms"} and each answer is
{"result"} or {"error"}, where an error has Lambda's errorType / errorMessage / stackTrace.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import socket
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

NOT_SHIPPED = frozenset({"sandbox", "tests", "bench"})  # the repository's local-only packages


class Context:
    """The Lambda context object, from the environment Lambda sets and the request's deadline."""

    def __init__(self, request: dict[str, Any]) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.invoked_function_arn = request["invoked_function_arn"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.aws_request_id = request["request_id"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


class NotShipped(importlib.abc.MetaPathFinder):
    """Lambda has the function's code and its layers, not the repository: importing a local-only package
    fails here as it would there."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in NOT_SHIPPED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)


def load_handler() -> Any:
    for name in [m for m in sys.modules if m.partition(".")[0] in NOT_SHIPPED]:
        del sys.modules[name]  # this runtime's own package; the handler must not find it
    sys.meta_path.insert(0, NotShipped())
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    module_name, _, name = os.environ["_HANDLER"].rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def serve(conn: Connection) -> None:
    try:
        handler = load_handler()
    except Exception as exc:  # an init error is the invocation's error, and the environment is discarded
        conn.send_bytes(json.dumps({"error": error(exc)}).encode())
        return
    conn.send_bytes(b'{"ready": true}')
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        context = Context(request)
        try:
            answer: dict[str, Any] = {"result": handler(request["event"], context)}
        except Exception as exc:
            answer = {"error": error(exc)}
        try:
            payload = json.dumps(answer)
        except (TypeError, ValueError) as exc:  # Lambda answers Runtime.MarshalError for a non-JSON result
            payload = json.dumps({"error": {**error(exc), "errorType": "Runtime.MarshalError"}})
        conn.send_bytes(payload.encode())


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    serve(Connection(sock.detach()))


if __name__ == "__main__":
    main()
