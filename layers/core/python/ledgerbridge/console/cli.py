"""Operator commands for what the console does, for any tenant (the environment's AWS, or --local):

ledgerbridge replay list   --tenant T                      the tenant's dead-letter messages
ledgerbridge replay run    --tenant T [--message ID ...]   send them (or the named ones) back to their queue
ledgerbridge replay failed --tenant T --since 2025-11-17T00:00Z
                                                           retry every record that failed since then
ledgerbridge console link  --tenant T [--api URL]          a one-time sign-in link to the console
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any


def _tenant(args: argparse.Namespace) -> Any:
    if args.local:
        from ledgerbridge.cli import _use_local

        _use_local()
    from ledgerbridge.state import tenants as tenant_store

    return tenant_store.load(args.tenant)


def _targets(tenant: Any) -> list[str]:
    return [i.target for i in tenant.integrations if i.enabled]


def cmd_replay(args: argparse.Namespace) -> int:
    from ledgerbridge import queues
    from ledgerbridge.console import activity, replay

    tenant = _tenant(args)
    if args.action == "list":
        out: Any = [replay.public(d) for d in replay.dead_letters(tenant.tenant_id, _targets(tenant))]
    elif args.action == "run":
        out = {"replayed": replay.replay(tenant.tenant_id, _targets(tenant), args.message or [])}
    else:
        since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        jobs = activity.retry_failed_since(tenant.tenant_id, since, activity.reopen_failed(tenant), queues.publish_jobs)
        out = {"retried": [f"{j.target} {j.entity} {j.source_id}" for j in jobs]}
    print(json.dumps(out, indent=2))
    return 0


def console_url(api: str, tenant_id: str) -> str:
    """The console's address with a fresh one-time sign-in link for the tenant."""
    from ledgerbridge.console import sessions

    return f"{api.rstrip('/')}/console/signin?token={sessions.issue_link(tenant_id)}"


def cmd_link(args: argparse.Namespace) -> int:
    tenant = _tenant(args)
    api = args.api
    if not api and args.local:
        from ledgerbridge.cli import LOCAL_STATE

        api = json.loads(LOCAL_STATE.read_text())["info"]["api"]
    if not api:
        raise SystemExit("--api: the API's base URL (the stack's ApiUrl output) is needed")
    print(console_url(api, tenant.tenant_id))
    return 0


def add_commands(sub: Any) -> None:
    replay = sub.add_parser("replay", help="dead letters and failed records: list, replay, retry")
    replay.add_argument("action", choices=["list", "run", "failed"])
    replay.add_argument("--tenant", required=True)
    replay.add_argument("--message", action="append", help="run: a dead-letter message id (repeatable)")
    replay.add_argument("--since", help="failed: ISO-8601 time; every record failed since then is retried")
    replay.add_argument("--local", action="store_true", help="use the running local stack")
    replay.set_defaults(func=cmd_replay)

    console = sub.add_parser("console", help="the tenant console").add_subparsers(dest="console_command", required=True)
    link = console.add_parser("link", help="print a one-time sign-in link (valid 15 minutes)")
    link.add_argument("--tenant", required=True)
    link.add_argument("--api", default="", help="the API's base URL (default with --local: the local front)")
    link.add_argument("--local", action="store_true", help="use the running local stack")
    link.set_defaults(func=cmd_link)
