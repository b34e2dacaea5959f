"""A tenant's Intacct company: its credentials (Secrets Manager), its client, and checking them.

Intacct has no consent flow: a company is reached with a sender id and password (the integrator's Web
Services licence, authorized by the company) and a company login, ideally a Web Services-only user
(https://developer.intacct.com/web-services ; README, "Pointing a tenant at a real Intacct company"). They are
stored as one JSON secret per tenant, named by the tenant's Intacct settings (`secret_name`), with the keys
below; `endpoint` is optional and only set to reach a double (the local stack and the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ledgerbridge import secrets
from ledgerbridge.errors import NotFound, PermanentError, TransientError
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.base import ConnectionStatus
from ledgerbridge.targets.intacct.client import DEFAULT_ENDPOINT, IntacctClient, LoginRejected, SenderRejected
from ledgerbridge.targets.intacct.settings import IntacctSettings
from ledgerbridge.targets.intacct.slots import CompanySlots
from ledgerbridge.targets.intacct.target import IntacctTarget
from ledgerbridge.targets.intacct.wire import Credentials
from ledgerbridge.tenants import Tenant, secret_name

REQUIRED = ("sender_id", "sender_password", "company_id", "user_id", "user_password")


def settings_of(tenant: Tenant) -> IntacctSettings:
    found = tenant.integration("intacct")
    if not isinstance(found, IntacctSettings):
        raise PermanentError(
            "Sage Intacct is not enabled for this tenant",
            code="not_connected",
            hint="add an enabled intacct integration to the tenant",
        )
    return found


def secret_of(tenant: Tenant) -> str:
    return settings_of(tenant).secret_name or secret_name(tenant.tenant_id, "intacct")


def credentials(values: Mapping[str, str]) -> tuple[Credentials, str]:
    """Credentials and endpoint from the secret's JSON; PermanentError naming what is missing."""
    missing = [k for k in REQUIRED if not str(values.get(k) or "").strip()]
    if missing:
        raise PermanentError(
            f"the Intacct credentials lack {', '.join(missing)}",
            code="not_configured",
            hint=f"store {', '.join(REQUIRED)} in the tenant's Intacct secret",
        )
    creds = Credentials(
        sender_id=values["sender_id"],
        sender_password=values["sender_password"],
        company_id=values["company_id"],
        user_id=values["user_id"],
        user_password=values["user_password"],
        client_id=str(values.get("client_id") or ""),
        location_id=str(values.get("location_id") or ""),
    )
    return creds, str(values.get("endpoint") or DEFAULT_ENDPOINT)


_clients: dict[tuple[str, str], IntacctClient] = {}


def client_for(tenant: Tenant) -> IntacctClient:
    """The company's client, reused by a warm container (its session lives until Intacct's timeout)."""
    name = secret_of(tenant)
    try:
        values = secrets.read_json(name)
    except NotFound as exc:
        raise PermanentError(
            "no Intacct credentials are stored for this tenant",
            code="not_configured",
            hint=f"store {', '.join(REQUIRED)} in the secret {name}",
        ) from exc
    creds, endpoint = credentials(values)
    key = (tenant.tenant_id, repr((creds, endpoint)))
    if key not in _clients:
        limit = settings_of(tenant).concurrency
        _clients[key] = IntacctClient(creds, endpoint=endpoint, slots=lambda: CompanySlots(creds.company_id, limit))
    return _clients[key]


def open_target(tenant: Tenant) -> IntacctTarget:
    from ledgerbridge.wiring import platform_for  # the catch-up writes payments to the platform itself

    return IntacctTarget(
        client_for(tenant),
        tenant_id=tenant.tenant_id,
        platform=lambda: platform_for(tenant),
        workers=settings_of(tenant).concurrency,
        customers_to_platform=settings_of(tenant).customers_to_platform,
    )


def reset() -> None:
    """Forget cached clients (tests start new doubles between cases)."""
    _clients.clear()


@dataclass(frozen=True)
class Check:
    ok: bool
    problem: str = ""  # "sender" | "login" | "credentials" | "unreachable"
    message: str = ""
    correction: str = ""


def check(tenant: Tenant) -> Check:
    """Log in (getAPISession) and say which part is wrong when it fails, in Intacct's own words."""
    try:
        client = client_for(tenant)
        client.forget_session()
        client.session()
    except SenderRejected as exc:
        return Check(False, "sender", str(exc), exc.hint or "check the sender ID and password (case sensitive)")
    except LoginRejected as exc:
        return Check(False, "login", str(exc), exc.hint or "check the company ID, user ID and password")
    except TransientError as exc:
        return Check(False, "unreachable", str(exc), "try again later")
    except PermanentError as exc:
        return Check(False, "credentials", str(exc), exc.hint)
    return Check(True, message=f"signed in to Intacct company {client.credentials.company_id}")


def _no_consent() -> PermanentError:
    return PermanentError(
        "Sage Intacct connects with stored credentials, not a consent page",
        code="credentials",
        hint=f"store {', '.join(REQUIRED)} in the tenant's Intacct secret, then ask for the status",
    )


class IntacctConnection:
    """Connecting is storing credentials (no consent page): status checks them against Intacct."""

    def begin(self, tenant_id: str, redirect_uri: str, return_to: str = "") -> str:
        raise _no_consent()

    def complete(self, params: Mapping[str, str]) -> ConnectionStatus:
        raise _no_consent()

    def disconnect(self, tenant_id: str) -> ConnectionStatus:
        tenant = tenant_store.load(tenant_id)
        secrets.write_json(secret_of(tenant), {})
        reset()
        return ConnectionStatus(tenant_id, "disconnected", reason="credentials removed")

    def status(self, tenant_id: str) -> ConnectionStatus:
        tenant = tenant_store.load(tenant_id)
        result = check(tenant)
        if result.ok:
            company = client_for(tenant).credentials.company_id
            return ConnectionStatus(tenant_id, "connected", account=company)
        state: Literal["disconnected", "reconnect_required"] = (
            "disconnected" if result.problem == "credentials" else "reconnect_required"
        )
        return ConnectionStatus(
            tenant_id,
            state,
            reason=result.message,
            detail={"problem": result.problem, "what_to_fix": result.correction},
        )
