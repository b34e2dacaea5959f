"""Run the sandbox on 127.0.0.1 in a background thread: `start()` returns a QboSandboxServer."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.qbo.app import SandboxApp
from sandbox.qbo.clock import Clock
from sandbox.qbo.faults import DropMode
from sandbox.qbo.state import SandboxOptions, SandboxState


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True  # a dropped answer closes the socket; keep-alive must not hold it


class QboSandboxServer:
    """A running sandbox. `.url` is its base URL (API, OAuth and discovery all live under it), `.state` its
    memory; the methods below are the fault-injection and clock levers tests pull."""

    def __init__(self, server: BaseWSGIServer, state: SandboxState) -> None:
        self._server = server
        self.state = state
        self.url = f"http://127.0.0.1:{server.port}"
        state.base_url = self.url
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="qbo-sandbox", daemon=True
        )
        self._thread.start()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        every = state.options.webhooks.webhook_auto_flush_s
        if every > 0:
            self._flusher = threading.Thread(
                target=self._deliver_webhooks, args=(every,), name="qbo-webhooks", daemon=True
            )
            self._flusher.start()

    def _deliver_webhooks(self, every: float) -> None:
        while not self._stopping.wait(every):
            self.state.webhooks.flush()

    def deliver_webhooks_to(self, url: str, every_s: float = 1.0) -> None:
        """Start sending webhook notifications to `url` (e.g. the local stack's `/webhooks/qbo`), flushing every
        `every_s` wall-clock seconds in the background. For a server started without a webhook URL."""
        self.state.options.webhooks.webhook_url = url
        if self._flusher is None and every_s > 0:
            self._flusher = threading.Thread(
                target=self._deliver_webhooks, args=(every_s,), name="qbo-webhooks", daemon=True
            )
            self._flusher.start()

    def describe(self) -> dict[str, Any]:
        """What a person (or the local stack's `info()`) needs to use this sandbox."""
        oauth, hooks = self.state.options.oauth, self.state.options.webhooks
        return {
            "url": self.url,
            "discovery_url": self.discovery_url,
            "realm_id": self.realm_id,
            "realms": list(self.state.options.api.realms),
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "verifier_token": hooks.verifier_token,
            "webhook_url": hooks.webhook_url,
            "webhook_format": hooks.webhook_format,
        }

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid_configuration"

    @property
    def realm_id(self) -> str:
        return self.state.options.api.realms[0]

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> QboSandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- levers -------------------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, path: str | None = None, writes_only: bool = False) -> None:
        self.state.faults.fail_next(count, status, path, writes_only)

    def drop_after_commit(self, count: int = 1, mode: DropMode = "close", path: str | None = None) -> None:
        self.state.faults.drop_after_commit(count, mode, path)

    def add_latency(self, seconds: float, path: str | None = None, count: int = 1_000_000_000) -> None:
        self.state.faults.add_latency(seconds, path, count)

    def chaos(self, transient: float = 0.0, drop_after_commit: float = 0.0, seed: int = 0) -> None:
        self.state.faults.chaos(transient, drop_after_commit, seed)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def advance(self, seconds: float) -> None:
        self.state.advance(seconds)

    def issue_tokens(self, realm_id: str | None = None) -> dict[str, Any]:
        realm = realm_id or self.realm_id
        self.state.add_realm(realm)
        return self.state.oauth.issue(realm)

    def expire_access_tokens(self, realm_id: str | None = None) -> int:
        return self.state.oauth.expire_access_tokens(realm_id)

    def disconnect(self, realm_id: str | None = None) -> None:
        self.state.oauth.revoke_realm(realm_id or self.realm_id)

    def objects(self, entity: str, realm_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored object of an entity ("Invoice"), for assertions; inactive ones included."""
        with self.state.lock:
            return [dict(o) for o in self.state.realm(realm_id).objects[entity].values()]


def start(port: int = 0, clock: Clock | None = None, **options: Any) -> QboSandboxServer:
    """Start a sandbox on 127.0.0.1:`port` (0: any free port). Options are the fields of SandboxOptions'
    groups, flat: client_id, access_token_ttl_s, per_second, throttle_xml, duplicate_doc_number_check, ..."""
    state = SandboxState(SandboxOptions.from_kwargs(**options), clock)
    server = make_server("127.0.0.1", port, SandboxApp(state), threaded=True, request_handler=_QuietHandler)
    return QboSandboxServer(server, state)
