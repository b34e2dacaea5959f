"""The local stack: moto's server as AWS, built from template.yaml; the sandboxes of the outside world;
every function in its own execution environments; the API front; SQS pollers standing in for Lambda's
event source mappings; and the schedules.

No function knows it runs locally: each runs in a process of its own with the environment variables
the template gives it, as in Lambda, plus AWS_ENDPOINT_URL (boto3 follows it to moto) and fake keys.
This process, the operator's (demo seeding, the CLI), gets every function's variables merged.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.server import ThreadedMotoServer

from sandbox.stack.environments import Environments, function_configs
from sandbox.stack.front import ApiFront, Served
from sandbox.stack.functions import by_folder
from sandbox.stack.pollers import Background, QueuePoller, fire
from sandbox.stack.provision import Provisioned, provision

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


@dataclass
class LocalStack:
    """Start with start(); everything listens on 127.0.0.1 with free ports."""

    background: bool = True
    moto: ThreadedMotoServer | None = None
    aws_url: str = ""
    stack: Provisioned | None = None
    front: Served | None = None
    functions: Environments | None = None
    pollers: list[QueuePoller] = field(default_factory=list)
    sandboxes: dict[str, Any] = field(default_factory=dict)
    _loop: Background | None = None

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        os.environ.update(FAKE_AWS)
        # Powertools' logger may exist already (imports), at INFO: the local stack speaks only of problems.
        logging.getLogger("ledgerbridge").setLevel(FAKE_AWS["POWERTOOLS_LOG_LEVEL"])
        os.environ.pop("AWS_SESSION_TOKEN", None)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.aws_url = f"http://{host}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = self.aws_url
        self._start_sandboxes()
        self.stack = provision(secret_values=self._secret_values(), parameters=self._parameters())
        os.environ.update(self.stack.all_env())
        os.environ.update(FAKE_AWS)  # local choices win over the template's (quieter logs, no EMF/X-Ray)
        self._reset_clients()
        # The functions' processes get the local choices too, over their template's variables.
        self.functions = Environments(function_configs(self.stack), {**FAKE_AWS, "AWS_ENDPOINT_URL": self.aws_url})
        invoke = self.functions.invoke
        self.front = Served(ApiFront(invoke))
        # Intuit's webhooks (payments) go to the app-level route, as the app's webhook URL would.
        self.sandboxes["qbo"].deliver_webhooks_to(f"{self.front.url}/webhooks/qbo")
        self.pollers = [QueuePoller(self.stack, s, invoke) for s in self.stack.template.queue_sources()]
        if self.background:
            self._loop = Background(self.pollers)
            self._loop.start()
        return self

    # ------------------------------------------------------------------ sandboxes
    def _start_sandboxes(self) -> None:
        from sandbox import intacct, qbo, servicetrade

        self.sandboxes["servicetrade"] = servicetrade.start()
        self.sandboxes["qbo"] = qbo.start()
        self.sandboxes["intacct"] = intacct.start()

    def _secret_values(self) -> dict[str, str]:
        from sandbox.fixtures import qbo_app_secret

        return {"QboAppSecret": json.dumps(qbo_app_secret(self.sandboxes["qbo"]))}

    def _parameters(self) -> dict[str, str]:
        qbo_url = self.sandboxes["qbo"].url
        return {"QboApiBaseUrl": qbo_url, "QboDiscoveryUrl": f"{qbo_url}/.well-known/openid_configuration"}

    @staticmethod
    def _reset_clients() -> None:
        from aws_lambda_powertools.utilities import parameters

        from ledgerbridge import aws
        from ledgerbridge.config import get_config

        get_config.cache_clear()
        aws.reset()
        parameters.clear_caches()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ driving it
    def fire_schedule(self, function_folder: str, at: datetime | None = None) -> Any:
        assert self.stack is not None
        source = next(
            s
            for s in self.stack.template.schedules()
            if self.stack.template.code_dir(s.function).name == function_folder
        )
        assert self.functions is not None
        return fire(source, at, self.functions.invoke)

    def warm(self, *function_folders: str) -> None:
        """Start these functions' environments now, in the background (the demo knows which it will use)."""
        assert self.functions is not None
        self.functions.warm([by_folder(folder) for folder in function_folders], wait=False)

    def drain(self, timeout_s: float = 60.0) -> int:
        """Poll every queue until all are empty (for the demo and tests, with background=False).
        Returns the number of messages handed to functions."""
        handled = 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            busy = sum(p.poll_once() for p in self.pollers)
            handled += busy
            if not busy:
                if all(p.backlog() == 0 for p in self.pollers):
                    return handled
                time.sleep(0.2)
        raise TimeoutError(f"queues still busy after {timeout_s} s")

    def info(self) -> dict[str, Any]:
        assert self.front is not None
        return {
            "api": self.front.url,
            "aws_endpoint": self.aws_url,
            "sandboxes": self._describe_sandboxes(),
        }

    def _describe_sandboxes(self) -> dict[str, dict[str, str]]:
        from sandbox.fixtures import qbo_app_secret
        from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME

        st, qbo = self.sandboxes["servicetrade"], self.sandboxes["qbo"]
        app = qbo_app_secret(qbo)
        return {
            "servicetrade": {
                "url": st.url,
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD,
            },
            "qbo": {
                "url": qbo.url,
                "discovery_url": qbo.discovery_url,
                "realm_id": qbo.realm_id,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "webhook_verifier_token": app["verifier_token"],
            },
            "intacct": self.sandboxes["intacct"].describe(),  # url (login endpoint) and the demo credentials
        }

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
        if self.front is not None:
            self.front.stop()
        if self.functions is not None:
            self.functions.close()
        for sb in self.sandboxes.values():
            sb.stop()
        if self.moto is not None:
            self.moto.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
