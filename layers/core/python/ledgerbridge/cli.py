"""`ledgerbridge`: the operator's command line (the product's commands; the development install's
`ledgerbridge` script is sandbox.cli, which adds `local serve` and `demo`).

    ledgerbridge tenant create|show|update ...   manage a tenant and its secrets (local or real AWS)
    ledgerbridge credential issue|list|revoke --tenant T [--purpose P] [--scope S ...] [--expires-in-days N]
    ledgerbridge export run --tenant T --connector C --period P
    ledgerbridge sync dry-run --tenant T [--target NAME] [--invoice ID ...] [--status S]
    ledgerbridge replay list|run|failed --tenant T ...   dead letters and failed records (console/cli.py)
    ledgerbridge console link --tenant T                 a one-time sign-in link to the console

Tenant, export and sync commands talk to whatever AWS the environment names (AWS_PROFILE, AWS_REGION,
STATE_TABLE, ...). With --local they use the stack that `ledgerbridge local serve` is running.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LOCAL_STATE = Path(".local/stack.json")  # written by `ledgerbridge local serve` (sandbox.cli)


def _use_local() -> None:
    if not LOCAL_STATE.exists():
        sys.exit("no local stack is running: start one with `ledgerbridge local serve`")
    os.environ.update(json.loads(LOCAL_STATE.read_text())["env"])


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def cmd_tenant(args: argparse.Namespace) -> int:
    from ledgerbridge import admin
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.tenants import Tenant

    if args.local:
        _use_local()
    secrets = admin.TenantSecrets.model_validate_json(Path(args.secrets).read_text()) if args.secrets else None
    if args.action == "create":
        data = json.loads(Path(args.config).read_text()) if args.config else {}
        data.setdefault("tenant_id", args.id)
        if args.name:
            data["name"] = args.name
        _print(admin.create_tenant(Tenant.model_validate(data), secrets).model_dump(mode="json"))
    elif args.action == "show":
        _print(tenant_store.load(args.id).model_dump(mode="json"))
    else:
        changes: dict[str, Any] = {}
        for assignment in args.set or []:
            key, _, value = assignment.partition("=")
            try:
                changes[key] = json.loads(value)
            except json.JSONDecodeError:
                changes[key] = value
        _print(admin.update_tenant(args.id, changes, secrets).model_dump(mode="json"))
    return 0


def cmd_credential(args: argparse.Namespace) -> int:
    from ledgerbridge import admin

    if args.local:
        _use_local()
    if args.action == "issue":
        fields: dict[str, Any] = {"purpose": args.purpose, "expires_in_days": args.expires_in_days}
        if args.scope:
            fields["scopes"] = args.scope
        _print({"credential": admin.issue_credential(args.tenant, admin.CredentialRequest.model_validate(fields))})
    elif args.action == "list":
        _print([c.as_dict() for c in admin.credentials(args.tenant)])
    else:
        if not args.key_id:
            sys.exit("revoke needs --key-id (see `ledgerbridge credential list`)")
        admin.revoke_credential(args.tenant, args.key_id)
        _print({"revoked": args.key_id})
    return 0


def cmd_sync_dry_run(args: argparse.Namespace) -> int:
    from ledgerbridge.admin import integration_plugin
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.sync.engine import plan_report
    from ledgerbridge.wiring import engine_for, platform_for

    if args.local:
        _use_local()
    tenant = tenant_store.load(args.tenant)
    ids = args.invoice or [i.source_id for i in platform_for(tenant).invoices(status=args.status)]
    _print(plan_report(engine_for(tenant, integration_plugin(tenant, args.target)), "invoice", ids))
    return 0


Commands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def main(argv: list[str] | None = None, extra: Sequence[Commands] = ()) -> int:
    """Run a command; `extra` adds command groups (sandbox.cli adds the local stack's)."""
    parser = argparse.ArgumentParser(prog="ledgerbridge", description=__doc__.split("\n\n")[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in extra:
        add(sub)

    tenant = sub.add_parser("tenant", help="create, show or update a tenant")
    tenant.add_argument("action", choices=["create", "show", "update"])
    tenant.add_argument("--id", required=True, help="tenant id (lowercase letters, digits, dashes)")
    tenant.add_argument("--name", help="display name (create)")
    tenant.add_argument("--config", help="JSON file with the tenant's settings (create)")
    tenant.add_argument("--set", action="append", help="key=JSON value, a top-level setting (update)")
    tenant.add_argument("--secrets", help="JSON file: servicetrade, webhook_hmac, targets {name: credentials}")
    tenant.add_argument("--local", action="store_true", help="use the running local stack")
    tenant.set_defaults(func=cmd_tenant)

    cred = sub.add_parser("credential", help="issue, list or revoke a tenant's credentials")
    cred.add_argument("action", choices=["issue", "list", "revoke"])
    cred.add_argument("--tenant", required=True)
    cred.add_argument("--purpose", default="files", choices=["files", "webhook", "connector"], help="issue")
    cred.add_argument("--scope", action="append", choices=["files", "layouts", "connect"], help="issue (repeatable)")
    cred.add_argument("--expires-in-days", type=int, help="issue; without it the credential lives until revoked")
    cred.add_argument("--key-id", help="revoke: the credential's id (from list)")
    cred.add_argument("--local", action="store_true", help="use the running local stack")
    cred.set_defaults(func=cmd_credential)

    from ledgerbridge.exports.cli import add_commands as add_export_commands

    add_export_commands(sub)

    from ledgerbridge.console.cli import add_commands as add_console_commands

    add_console_commands(sub)

    sync = sub.add_parser("sync", help="integrations").add_subparsers(dest="sync_command", required=True)
    dry = sync.add_parser("dry-run", help="what a sync would do, with a field diff")
    dry.add_argument("--tenant", required=True)
    dry.add_argument("--target", default="", help="a target name (default: the tenant's first integration)")
    dry.add_argument("--invoice", action="append", help="a platform invoice id (repeatable)")
    dry.add_argument("--status", default="pending_accounting", help="without --invoice: every invoice in this status")
    dry.add_argument("--local", action="store_true", help="use the running local stack")
    dry.set_defaults(func=cmd_sync_dry_run)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as exc:  # the operator gets the message, not a traceback
        from ledgerbridge.errors import LedgerBridgeError

        if isinstance(exc, LedgerBridgeError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
