"""A webhook receiver for tests and demos: answers scripted statuses and records every delivery it gets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Request, Response

from sandbox.servicetrade.server import serve

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


@dataclass
class HookReceiver:
    """POSTs to `url` get the next status from `statuses` (then `default_status`), after `delay` seconds."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)  # one per request, in arrival order
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _server: BaseWSGIServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        body = json.loads(request.get_data() or b"null")
        with self._lock:
            self.received.append(body)
            self.headers.append(dict(request.headers))
            status = self.statuses.pop(0) if self.statuses else self.default_status
        if self.delay:
            time.sleep(self.delay)
        return Response(b"", status=status)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The first `count` deliveries, waiting up to `timeout` seconds for them to arrive."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"received {len(self.received)} of {count} deliveries")
            time.sleep(0.01)
        return self.received[:count]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HookReceiver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_receiver(statuses: Iterable[int] = (), default_status: int = 200, delay: float = 0.0) -> HookReceiver:
    receiver = HookReceiver(statuses=list(statuses), default_status=default_status, delay=delay)
    server, _ = serve(receiver)
    receiver._server = server
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    return receiver
