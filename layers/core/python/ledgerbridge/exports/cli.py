"""`ledgerbridge export run --tenant T --connector C --period P [--connection X] [--local]`: run exports
in-process (the same run_export as the worker), with progress on stderr and each manifest on stdout."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from ledgerbridge.exports.gather import Progress

BAR = 30


class ProgressDisplay:
    """One status line on a terminal (redrawn at most 10 times a second); on anything else (a log, a
    pipe) a plain line per phase and at most one every `every_s` seconds."""

    def __init__(self, stream: TextIO, label: str, every_s: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.label = label
        self.every_s = every_s
        self.phase = ""
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        new_phase = phase != self.phase
        finished = total is not None and done >= total
        if not (new_phase or finished) and now - self.last < (0.1 if self.tty else self.every_s):
            return
        self.phase, self.last = phase, now
        line = f"{self.label}: {phase} {self.bar(done, total)} ({now - self.started:.1f} s)"
        if self.tty:
            self.stream.write(("\n" if new_phase and done else "\r") + line[:160].ljust(80))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    @staticmethod
    def bar(done: int, total: int | None) -> str:
        if not total:
            return f"{done:,}"
        filled = min(BAR, BAR * done // total)
        return f"[{'#' * filled}{'.' * (BAR - filled)}] {done:,}/{total:,}"

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def add_commands(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="run connector exports")
    commands = export.add_subparsers(dest="export_command", required=True)
    run = commands.add_parser("run", help="run one export now, in this process")
    run.add_argument("--tenant", required=True, help="tenant id")
    run.add_argument("--connector", required=True, help="sage300cre, computerease or csv")
    run.add_argument("--period", required=True, help="2026-11-24 (day), 2026-W48 (ISO week) or 2026-11 (month)")
    run.add_argument("--connection", help="one connection (default: every connection of the connector)")
    run.add_argument("--local", action="store_true", help="use the running local stack")
    run.set_defaults(func=cmd_export_run)


def cmd_export_run(args: argparse.Namespace, stderr: TextIO | None = None) -> int:
    if args.local:
        from ledgerbridge.cli import _use_local

        _use_local()
    from ledgerbridge import aws, wiring
    from ledgerbridge.config import get_config
    from ledgerbridge.exports.dispatch import ExportJob
    from ledgerbridge.exports.periods import parse
    from ledgerbridge.exports.run import run_export, settings_for
    from ledgerbridge.state import tenants as tenant_store

    period = parse(args.period).label  # a bad period fails before anything is read
    tenant = tenant_store.load(args.tenant)
    connections = [args.connection] if args.connection else []
    if not connections:
        settings = tenant.connector(args.connector)
        connections = list(settings.connections) if settings else ["ar_invoices"]
    for connection in connections:
        settings_for(tenant, args.connector, connection)  # names the problem before any work starts
    source = wiring.platform_for(tenant)
    bucket = get_config().file_drop_bucket
    for connection in connections:
        job = ExportJob.model_validate(
            {
                "tenant_id": tenant.tenant_id,
                "connector": args.connector,
                "connection": connection,
                "period": period,
                "trigger": "cli",
            }
        )
        display = ProgressDisplay(stderr or sys.stderr, f"{args.connector}/{connection} {period}")
        progress: Progress = display
        try:
            manifest = run_export(tenant, job, source, aws.client("s3"), bucket, datetime.now(UTC), progress=progress)
        finally:
            display.close()
        print(json.dumps(manifest.model_dump(mode="json"), indent=2))
    return 0
