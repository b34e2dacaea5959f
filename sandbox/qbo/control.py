"""/_sandbox/... control routes: the same levers as the QboSandboxServer methods, over HTTP (for the local
stack and for poking at the sandbox with curl)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from sandbox.qbo.entities import ENTITIES
from sandbox.qbo.state import SandboxState

HELP = {
    "GET /_sandbox/health": "liveness",
    "GET /_sandbox/calls": "every API call so far: method, path, query args, status",
    "POST /_sandbox/faults": '{"fail_next": {"count": 2, "status": 503, "path": "/invoice"}, '
    '"drop_after_commit": {"count": 1, "mode": "close|504"}, "latency": {"seconds": 0.5}, '
    '"chaos": {"transient": 0.1, "drop_after_commit": 0.01, "seed": 7}}',
    "POST /_sandbox/faults/clear": "remove every fault",
    "POST /_sandbox/clock/advance": '{"seconds": 61} (ManualClock only)',
    "POST /_sandbox/limits": '{"per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40, '
    '"enabled": true, "reset": true}',
    "POST /_sandbox/company/{realm}": '{"duplicate_doc_number_check": false, ...} (CompanySettings fields)',
    "POST /_sandbox/tokens": '{"realm_id": "..."}: tokens without the consent screen',
    "POST /_sandbox/tokens/expire": '{"realm_id": "..."}: every access token of the realm expires now',
    "POST /_sandbox/realms/{realm}/disconnect": "revoke every grant of the realm (user disconnected the app)",
    "GET /_sandbox/realms/{realm}/{entity}": "every stored object of an entity, inactive ones included",
    "POST /_sandbox/webhooks/flush": "deliver pending webhook notifications now",
}


def handle(state: SandboxState, method: str, what: str, body: dict[str, Any]) -> tuple[int, Any]:
    parts = what.strip("/").split("/")
    with state.lock:
        if parts == ["health"]:
            return 200, {"ok": True}
        if parts == ["help"]:
            return 200, HELP
        if parts == ["calls"]:
            return 200, state.calls
        if parts == ["faults"] and method == "POST":
            if "fail_next" in body:
                state.faults.fail_next(**body["fail_next"])
            if "drop_after_commit" in body:
                state.faults.drop_after_commit(**body["drop_after_commit"])
            if "latency" in body:
                state.faults.add_latency(**body["latency"])
            if "chaos" in body:
                chaos = dict(body["chaos"])
                if "statuses" in chaos:
                    chaos["statuses"] = tuple(chaos["statuses"])
                state.faults.chaos(**chaos)
            return 200, {"fired": state.faults.fired}
        if parts == ["faults", "clear"]:
            state.faults.clear()
            return 200, {}
        if parts == ["clock", "advance"]:
            state.advance(float(body.get("seconds", 0)))
            return 200, {"now": state.clock.now()}
        if parts == ["limits"] and method == "POST":
            for key, value in body.items():
                if key != "reset":
                    setattr(state.limiter.limits, key, value)
            if body.get("reset"):
                state.limiter.reset()
            return 200, dataclasses.asdict(state.limiter.limits)
        if len(parts) == 2 and parts[0] == "company" and method == "POST":
            settings = state.add_realm(parts[1]).settings
            for key, value in body.items():
                if not hasattr(settings, key):
                    return 400, {"error": f"unknown company setting {key!r}"}
                setattr(settings, key, value)
            return 200, dataclasses.asdict(settings)
        if parts == ["tokens"] and method == "POST":
            realm_id = str(body.get("realm_id") or state.options.api.realms[0])
            state.add_realm(realm_id)
            return 200, {**state.oauth.issue(realm_id), "realmId": realm_id}
        if parts == ["tokens", "expire"]:
            return 200, {"expired": state.oauth.expire_access_tokens(body.get("realm_id"))}
        if len(parts) == 3 and parts[0] == "realms" and parts[2] == "disconnect":
            state.oauth.revoke_realm(parts[1])
            return 200, {}
        if len(parts) == 3 and parts[0] == "realms" and parts[1] in state.realms:
            name = ENTITIES.get(parts[2].lower())
            if name is None:
                return 404, {"error": f"unknown entity {parts[2]!r}"}
            return 200, copy.deepcopy(list(state.realms[parts[1]].objects[name].values()))
    if parts == ["webhooks", "flush"]:
        return 200, [{"status": d.last_status, "attempts": d.attempts} for d in state.webhooks.flush()]
    return 404, {"error": f"unknown control route /_sandbox/{what}", "routes": HELP}
