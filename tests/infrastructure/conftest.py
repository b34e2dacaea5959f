"""A moto server (not the in-process mock): built functions run in their own interpreter and reach it over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto server with every resource of template.yaml; this process's boto3 and the functions' env point at it."""
    from moto.server import ThreadedMotoServer

    from tests.conftest import provision_stack, reset_caches

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    # The server keeps moto's state in this process: start each test from none.
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    try:
        yield provision_stack(monkeypatch)
    finally:
        server.stop()
        reset_caches()
