"""Serve the sandbox on 127.0.0.1 in a background thread: `with start() as st: ...st.url...`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.servicetrade.app import RequestRecord, SandboxApp
from sandbox.servicetrade.auth import Grant
from sandbox.servicetrade.http import Change
from sandbox.servicetrade.store import Store
from sandbox.servicetrade.webhooks import DeliveryAttempt, DeliveryMode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    WsgiApp = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (werkzeug logs every request by default)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve(app: WsgiApp, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, threading.Thread]:
    """A threaded werkzeug server for `app`, already serving in a daemon thread."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


class SandboxServer:
    """A running sandbox. `url` is the SDK's base_url (the API is under `url + "/api"`)."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self._server, self._thread = serve(app, host, port)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        app.dispatcher.base_url = self.url
        app.dispatcher.start()

    # -- state ---------------------------------------------------------------------------------------------------
    @property
    def state(self) -> Store:
        return self.app.store

    @property
    def requests(self) -> list[RequestRecord]:
        return list(self.app.requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RequestRecord]:
        return [r for r in self.app.requests if r.path == path and (method is None or r.method == method)]

    @property
    def grants(self) -> list[Grant]:
        return list(self.app.auth.grants)

    # -- auth ----------------------------------------------------------------------------------------------------
    def set_token_lifetime(self, seconds: int) -> None:
        """Lifetime of access tokens issued from now on (the SDK refreshes when < 300 s remain)."""
        self.app.auth.token_lifetime = seconds

    def expire_access_tokens(self) -> None:
        """Invalidate every issued access token: the next API call gets 401 (empty body)."""
        self.app.auth.expire_access_tokens()

    # -- faults --------------------------------------------------------------------------------------------------
    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        retry_after: int | None = None,
        path_prefix: str = "/api/",
        method: str | None = None,
    ) -> None:
        self.app.faults.fail_next(count, status, retry_after=retry_after, path_prefix=path_prefix, method=method)

    def add_latency(self, seconds: float, count: int | None = None, *, path_prefix: str = "/api/") -> None:
        self.app.faults.add_latency(seconds, count, path_prefix=path_prefix)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    # -- webhooks ------------------------------------------------------------------------------------------------
    def deliver(
        self,
        entity_type: str,
        entity_id: int,
        action: str = "updated",
        changeset: list[dict[str, Any]] | None = None,
        user_id: int | None = None,
    ) -> str | None:
        """Publish a webhook message for one entity, as if it had changed; returns the message id."""
        return self.app.dispatcher.publish([Change(entity_type, entity_id, action, user_id, changeset)])

    def send_to_accounting(self, invoice_ids: list[int]) -> None:
        """The office's bulk "Send to accounting": every invoice to `pending_accounting` at once, each with
        its own webhook message (as one PUT per invoice would, without the HTTP round trips)."""
        now = int(time.time())
        with self.state.lock:
            for invoice_id in invoice_ids:
                self.state.invoices[invoice_id].update(status="pending_accounting", updated=now)
        for invoice_id in invoice_ids:
            self.app.dispatcher.publish([Change("invoice", invoice_id, "updated", None)])

    def drop_deliveries(self, count: int, of: int | None = None) -> None:
        """Lose `count` of every `of` webhook messages from now on (the next `count` when `of` is None):
        never sent, as when a hook is misconfigured or an outage outlasts the retries. 0 stops it."""
        self.app.dispatcher.drop_deliveries(count, of)

    @property
    def dropped(self) -> list[dict[str, Any]]:
        """The payloads lost on purpose by drop_deliveries()."""
        return [out.payload for out in self.app.dispatcher.dropped]

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        self.app.dispatcher.wait(timeout)

    def flush_deliveries(self) -> int:
        return self.app.dispatcher.flush()

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        return list(self.app.dispatcher.attempts)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.app.dispatcher.messages)

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.dispatcher.stop()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start(
    dataset: Store | None = None,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    token_lifetime: int = 3600,
    require_client_id_on_refresh: bool = False,
    max_sessions_per_user: int = 10,
    delivery_mode: DeliveryMode = "async",
    delivery_timeout: float = 5.0,
    delivery_attempts: int = 3,
    delivery_retry_delay: float = 1.0,
) -> SandboxServer:
    """Serve `dataset` (default: a fresh demo company) on host:port (0 = a free port)."""
    if dataset is None:
        from sandbox.servicetrade.demo import demo_dataset

        dataset = demo_dataset()
    app = SandboxApp(
        dataset,
        token_lifetime=token_lifetime,
        require_client_id_on_refresh=require_client_id_on_refresh,
        max_sessions_per_user=max_sessions_per_user,
        delivery_mode=delivery_mode,
        delivery_timeout=delivery_timeout,
        delivery_attempts=delivery_attempts,
        delivery_retry_delay=delivery_retry_delay,
    )
    return SandboxServer(app, host, port)
