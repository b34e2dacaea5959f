"""Execution environments for the local stack, one worker process each, as Lambda runs functions.

Lambda gives every function its own environments: a process started with only that function's
environment variables (the template's, plus the ones Lambda reserves), that imports the handler once
(Init) and then serves one invocation at a time, up to the function's concurrency. Nothing is shared
between two functions, nor between two environments of one function. A handler's exception is the
invocation's error and the environment is kept; a crash or a timeout resets it (the process is killed
and the next invocation starts a new one), as AWS documents for the invoke phase:
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html

Environments start lazily, on the first invocation that finds none idle, so a stack that serves three
functions pays for three imports; warm() starts some in parallel ahead of time.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sandbox.stack.provision import REGION, Provisioned

LOCAL_CONCURRENCY = 4  # where the template sets none: Lambda scales to the account's limit, a laptop does not
INIT_LIMIT_S = 10  # Lambda's Init phase; a slow Init is retried within the invocation's own timeout

# -I: only the function's variables count (no PYTHON* ones); -u: logs appear as they are written, as in
# CloudWatch. Powertools warns on every invocation that publishes no metric; metrics are disabled locally.
WARNINGS = ("-W", "ignore:No application metrics to publish:UserWarning")


@dataclass(frozen=True)
class FunctionConfig:
    name: str  # logical id, which is also the local function name
    code_dir: Path
    handler: str  # module.function, as the template's Handler
    runtime: str
    timeout_s: int
    memory_mb: int
    concurrency: int
    env: dict[str, str]  # the template's variables for this function, resolved

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.name}"


def function_configs(stack: Provisioned) -> dict[str, FunctionConfig]:
    """Every function of the template, as Lambda would configure it."""
    t = stack.template
    return {
        name: FunctionConfig(
            name=name,
            code_dir=t.code_dir(name),
            handler=str(t.setting(name, "Handler", "app.lambda_handler")),
            runtime=str(t.setting(name, "Runtime", "python3")),
            timeout_s=t.timeout_s(name),
            memory_mb=t.memory_mb(name),
            concurrency=t.concurrency(name) or LOCAL_CONCURRENCY,
            env=stack.env(name),
        )
        for name in t.functions
    }


class FunctionError(Exception):
    """An invocation that failed, as Lambda reports it (errorType, errorMessage, stackTrace)."""

    def __init__(self, function: str, error: Mapping[str, Any]) -> None:
        self.function = function
        self.error_type = str(error.get("errorType", "Unknown"))
        self.error_message = str(error.get("errorMessage", ""))
        self.stack_trace = list(error.get("stackTrace", []))
        super().__init__(f"{function}: {self.error_type}: {self.error_message}")


def process_env(config: FunctionConfig, local: Mapping[str, str]) -> dict[str, str]:
    """What the function's process sees: Lambda's reserved variables, the template's, then the local
    stack's endpoint settings (moto's URL, fake keys, quieter logs), and nothing else."""
    reserved = {
        "_HANDLER": config.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": str(config.code_dir),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    return {**reserved, **config.env, **local}


_live: weakref.WeakSet[Environment] = weakref.WeakSet()


class Environment:
    """One execution environment: a worker process (sandbox.stack.worker) and the socket to it."""

    def __init__(self, config: FunctionConfig, local: Mapping[str, str]) -> None:
        self.config = config
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-I", "-u", *WARNINGS, "-m", "sandbox.stack.worker", str(theirs.fileno())],
                env=process_env(config, local),
                cwd=config.code_dir,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the stack, which stops its environments itself
            )
        self.conn = Connection(ours.detach())
        self.healthy = True
        _live.add(self)

    def init(self) -> None:
        """Wait for the handler's import (Lambda's Init phase); its failure is the invocation's error."""
        reply = self._receive(INIT_LIMIT_S + self.config.timeout_s, phase="Init")
        if "error" in reply:
            self.close()
            raise FunctionError(self.config.name, reply["error"])

    def invoke(self, event: Any) -> Any:
        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000) + self.config.timeout_s * 1000
        request = {
            "event": event,
            "request_id": request_id,
            "invoked_function_arn": self.config.arn,
            "deadline_ms": deadline_ms,
        }
        try:
            self.conn.send_bytes(json.dumps(request).encode())
        except OSError:
            raise FunctionError(self.config.name, self._exit_error(request_id)) from None
        reply = self._receive(self.config.timeout_s, phase="Invoke", request_id=request_id)
        if "error" in reply:
            raise FunctionError(self.config.name, reply["error"])
        return reply["result"]

    def _receive(self, limit_s: float, *, phase: str, request_id: str = "") -> dict[str, Any]:
        try:
            if self.conn.poll(limit_s):
                reply: dict[str, Any] = json.loads(self.conn.recv_bytes())
                return reply
        except (EOFError, OSError):  # the process is gone: it crashed (or exited) mid-invocation
            raise FunctionError(self.config.name, self._exit_error(request_id)) from None
        self.close()
        message = f"{request_id} Task timed out after {limit_s:.2f} seconds".strip()
        if phase == "Init":
            message = f"Init phase timed out after {limit_s:.2f} seconds"
        raise FunctionError(self.config.name, {"errorType": "Sandbox.Timedout", "errorMessage": message})

    def _exit_error(self, request_id: str) -> dict[str, str]:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.close()
        code = self.process.returncode
        status = f"signal: {-code}" if code < 0 else f"exit status {code}"
        return {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {status}",
        }

    def close(self) -> None:
        """Discard the environment. The process goes first, so that an invocation waiting on its socket
        in another thread wakes with EOF rather than waiting on a closed handle."""
        self.healthy = False
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.conn.close()
        _live.discard(self)


class FunctionEnvironments:
    """A function's environments: at most `concurrency` at once, each serving one invocation at a time."""

    def __init__(self, config: FunctionConfig, local: Mapping[str, str]) -> None:
        self.config = config
        self.local = dict(local)
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._lock = threading.Lock()
        self._idle: list[Environment] = []
        self._all: set[Environment] = set()
        self._closed = False
        self.started = 0

    def invoke(self, event: Any) -> Any:
        with self._slots:
            env = self._take()
            try:
                return env.invoke(event)
            finally:
                with self._lock:
                    if env.healthy:
                        self._idle.append(env)
                    else:
                        self._all.discard(env)

    def warm(self) -> None:
        """Start an environment now unless there is one (an Init failure surfaces at the first invoke)."""
        with self._slots:
            with self._lock:
                if self._all:
                    return
            try:
                env = self._take()
            except FunctionError:
                return
            with self._lock:
                self._idle.append(env)

    def _take(self) -> Environment:
        with self._lock:
            if self._closed:  # a poller still finishing its round must not start a process nobody stops
                raise FunctionError(self.config.name, {"errorType": "Local.Stopped", "errorMessage": "stack stopped"})
            if self._idle:
                return self._idle.pop()
            env = Environment(self.config, self.local)
            self._all.add(env)
            self.started += 1
        try:
            env.init()
        except FunctionError:
            with self._lock:
                self._all.discard(env)
            raise
        return env

    def close(self) -> None:
        with self._lock:
            self._closed = True
            envs, self._all, self._idle = list(self._all), set(), []
        for env in envs:
            env.close()


class Environments:
    """Every function's environments: what the API front, the queue pollers and the schedules invoke."""

    def __init__(self, configs: Mapping[str, FunctionConfig], local: Mapping[str, str]) -> None:
        self.functions = {name: FunctionEnvironments(config, local) for name, config in configs.items()}

    def invoke(self, function: str, event: Any) -> Any:
        """One invocation, as Lambda's synchronous Invoke: the result, or FunctionError."""
        return self.functions[function].invoke(event)

    def warm(self, functions: Iterable[str], wait: bool = True) -> None:
        """Start one environment for each of these functions, in parallel (in the background unless
        `wait`), so that their first invocations find them ready."""
        threads = [threading.Thread(target=self.functions[f].warm, daemon=True) for f in functions]
        for thread in threads:
            thread.start()
        for thread in threads if wait else ():
            thread.join()

    def close(self) -> None:
        for environments in self.functions.values():
            environments.close()


@atexit.register
def _no_orphans() -> None:
    """A stack not stopped still takes its workers with it (they also exit when the socket closes)."""
    for env in list(_live):
        env.close()
