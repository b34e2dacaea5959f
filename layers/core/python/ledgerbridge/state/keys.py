"""Every key of the state table, built here and nowhere else (the families are listed in state/__init__.py).

Each function returns the item's key as {"pk": ..., "sk": ...}; `tenant_pk` and friends give a partition to
query. Target-specific families take the target's registry name, so a target never spells a key itself.
"""

from __future__ import annotations

Key = dict[str, str]


def _key(pk: str, sk: str) -> Key:
    return {"pk": pk, "sk": sk}


# -- the tenant ------------------------------------------------------------------------------------------


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def tenant_config(tenant_id: str) -> Key:
    return _key(tenant_pk(tenant_id), "CONFIG")


def credential(tenant_id: str, key_id: str) -> Key:
    return _key(tenant_pk(tenant_id), f"CRED#{key_id}")


def cursor(tenant_id: str, name: str) -> Key:
    return _key(tenant_pk(tenant_id), f"CURSOR#{name}")


def log_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#LOG"


def log_entry(tenant_id: str, at: str, entry_id: str) -> Key:
    return _key(log_pk(tenant_id), f"{at}#{entry_id}")


def event_claim(tenant_id: str, claim: str) -> Key:
    return _key(f"TENANT#{tenant_id}#EVENT", claim)


def layout_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#LAYOUT"


def layout(tenant_id: str, name: str) -> Key:
    return _key(layout_pk(tenant_id), name)


# -- records in a target ------------------------------------------------------------------------------------


def mapping(tenant_id: str, target: str, entity: str, source_id: str) -> Key:
    return _key(f"TENANT#{tenant_id}#MAP#{target}", f"{entity}#{source_id}")


def reverse_mapping(tenant_id: str, target: str, entity: str, target_id: str) -> Key:
    return _key(f"TENANT#{tenant_id}#MAP#{target}#REV", f"{entity}#{target_id}")


def intent(tenant_id: str, target: str, entity: str, source_id: str) -> Key:
    return _key(f"TENANT#{tenant_id}#INTENT#{target}", f"{entity}#{source_id}")


def payments_pk(tenant_id: str, target: str) -> str:
    return f"TENANT#{tenant_id}#MAP#{target}"


def payment_applied(tenant_id: str, target: str, payment_id: str, target_invoice_id: str) -> Key:
    return _key(payments_pk(tenant_id, target), f"{applied_prefix(payment_id)}{target_invoice_id}")


def applied_prefix(payment_id: str) -> str:
    return f"payment#{payment_id}#"


def payment_version(tenant_id: str, target: str, payment_id: str) -> Key:
    return _key(payments_pk(tenant_id, target), f"paymentstate#{payment_id}")


def outbox_pk(tenant_id: str, target: str) -> str:
    """Records waiting for a target that is written only when its own connector calls in."""
    return f"TENANT#{tenant_id}#{target.upper()}#OUTBOX"


def outbox_entry(tenant_id: str, target: str, record_key: str) -> Key:
    return _key(outbox_pk(tenant_id, target), record_key)


def connector_session(tenant_id: str, target: str) -> Key:
    """The tenant's live connector session (one at a time) and the last one's state."""
    return _key(f"TENANT#{tenant_id}#{target.upper()}", "SESSION")


def session_ticket(target: str, ticket: str) -> Key:
    """A connector session by its ticket (the connector's calls name only the ticket)."""
    return _key(f"{target.upper()}#TICKET#{ticket}", "SESSION")


def connector_refused(tenant_id: str, target: str) -> Key:
    """The last sign-in a target's connector was refused (its password), until a session begins."""
    return _key(f"TENANT#{tenant_id}#{target.upper()}", "REFUSED")


def connection_check(tenant_id: str, target: str) -> Key:
    """The last check of a target's stored credentials (a sign-in), for the console's Overview."""
    return _key(f"TENANT#{tenant_id}#{target.upper()}", "CHECK")


def ledger_request(tenant_id: str, target: str) -> Key:
    """A period whose ledger invoices the console waits for from the target's next connector session."""
    return _key(f"TENANT#{tenant_id}#{target.upper()}", "LEDGER#REQUEST")


def ledger_pk(tenant_id: str, target: str, first: str, last: str) -> str:
    """The ledger invoices of a period as a connector session reported them."""
    return f"TENANT#{tenant_id}#{target.upper()}#LEDGER#{first}#{last}"


# -- a tenant's account in a target -----------------------------------------------------------------------


def connection(tenant_id: str, target: str) -> Key:
    return _key(tenant_pk(tenant_id), f"{target.upper()}CONN")


def token_version(tenant_id: str, target: str) -> Key:
    return _key(tenant_pk(tenant_id), f"{target.upper()}TOKEN")


def console_session(tenant_id: str, digest: str) -> Key:
    return _key(tenant_pk(tenant_id), f"CONSOLE#SESSION#{digest}")


def console_link(tenant_id: str, digest: str) -> Key:
    return _key(tenant_pk(tenant_id), f"CONSOLE#LINK#{digest}")


def oauth_state(tenant_id: str, nonce: str) -> Key:
    return _key(tenant_pk(tenant_id), f"OAUTHSTATE#{nonce}")


def account_tenant(target: str, account_id: str) -> Key:
    """Which tenant a target account (the company a tenant connected) belongs to: the target's own
    notifications name only the account."""
    return _key(f"ACCOUNT#{target}#{account_id}", "TENANT")


def rate_budget(target: str, account_id: str) -> Key:
    """The request budget every consumer shares for one target account."""
    return _key(f"ACCOUNT#{target}#{account_id}", "BUDGET")


def concurrency_slots(target: str, account_id: str) -> Key:
    """The requests in flight for one target account, where the target caps them (a lease per slot)."""
    return _key(f"ACCOUNT#{target}#{account_id}", "SLOTS")
