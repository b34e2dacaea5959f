"""Run the Intacct double on 127.0.0.1 in a background thread: `start()` returns an IntacctSandboxServer."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import fields
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.intacct.company import Company
from sandbox.intacct.gateway import LOGIN_PATH, Gateway, Options


class DroppedConnection(ConnectionError):
    """Raised after a committed write to close the socket without an answer (werkzeug writes nothing)."""


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True


class _App:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.method != "POST":  # GET has been refused since 15 January 2023 (developer.intacct.com)
            response = Response("POST only", status=405, headers={"Allow": "POST"})
        elif not request.path.endswith("xmlgw.phtml"):
            response = Response("not found", status=404)
        else:
            answer = self.gateway.handle(request.path, request.get_data())
            if answer.drop:
                raise DroppedConnection("sandbox: functions committed, answer dropped")
            response = Response(answer.body, status=answer.status, content_type="application/xml")
        return response(environ, start_response)


class IntacctSandboxServer:
    """A running double. `.url` is the login endpoint; `.gateway` its memory; the methods are test levers."""

    def __init__(self, gateway: Gateway, port: int = 0) -> None:
        self._server = make_server("127.0.0.1", port, _App(gateway), threaded=True, request_handler=_QuietHandler)
        self.gateway = gateway
        self.base_url = f"http://127.0.0.1:{self._server.port}"
        gateway.base_url = self.base_url
        self.url = self.base_url + LOGIN_PATH
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05), name="intacct-sandbox", daemon=True
        )
        self._thread.start()

    def describe(self) -> dict[str, Any]:
        """What a person (or `local serve`) needs to point a tenant at this double."""
        o = self.gateway.options
        return {
            "url": self.url,
            "sender_id": o.sender_id,
            "sender_password": o.sender_password,
            "company_id": o.company_id,
            "user_id": o.user_id,
            "user_password": o.user_password,
        }

    def credentials(self) -> dict[str, str]:
        """The tenant secret (targets.intacct.connect) that logs in to this double's demo company."""
        d = self.describe()
        return {k: d[k] for k in ("sender_id", "sender_password", "company_id", "user_id", "user_password")}

    @property
    def company(self) -> Company:
        return self.gateway.company()

    def drop_after_commit(self, count: int = 1) -> None:
        """The next `count` requests that write run to the end, then lose their answer."""
        with self.gateway.lock:
            self.gateway.drops += count

    def advance(self, seconds: float) -> None:
        """Move the double's clock (sessions expire)."""
        with self.gateway.lock:
            self.gateway.offset_s += seconds

    def invoices(self) -> list[dict[str, Any]]:
        with self.gateway.lock:
            return [dict(i) for i in self.company.invoices.values()]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> IntacctSandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(port: int = 0, **options: Any) -> IntacctSandboxServer:
    """Start a double on 127.0.0.1:`port` (0: any free port); options are Options' fields."""
    known = {f.name for f in fields(Options)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown Intacct sandbox options: {', '.join(sorted(unknown))}")
    return IntacctSandboxServer(Gateway(Options(**options)), port)
