"""The development install's `ledgerbridge` command: the product's commands (ledgerbridge.cli) plus the local
stack's, which need this package and so never ship in the layer.

    ledgerbridge local serve    start the local stack and print its URLs as one JSON line
    ledgerbridge demo           run the main job end to end on the local stack
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading

from ledgerbridge import cli
from ledgerbridge.cli import LOCAL_STATE


def cmd_local_serve(args: argparse.Namespace) -> int:
    from sandbox.demo import seed
    from sandbox.qbd.demo import seed_desktop
    from sandbox.stack.runner import LocalStack

    stack = LocalStack(background=True).start()
    try:
        seeded = seed(stack)
        desktop, _servicetrade = seed_desktop(stack)  # its sandbox serves until this process ends
        info = {**stack.info(), "demo_tenant": seeded, "quickbooks_desktop": desktop}
        env_keys = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
        env = {k: os.environ[k] for k in env_keys}
        env.update(stack.stack.all_env() if stack.stack else {})
        LOCAL_STATE.parent.mkdir(exist_ok=True)
        LOCAL_STATE.write_text(json.dumps({"env": env, "info": info}))
        print(json.dumps(info), flush=True)
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    finally:
        stack.stop()
        LOCAL_STATE.unlink(missing_ok=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo()


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = sub.add_parser("local", help="the local stack").add_subparsers(dest="local_command", required=True)
    local.add_parser("serve", help="start moto, the sandboxes and the API front; Ctrl-C stops").set_defaults(
        func=cmd_local_serve
    )
    sub.add_parser("demo", help="run the main job end to end on the local stack").set_defaults(func=cmd_demo)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, extra=[add_commands])


if __name__ == "__main__":
    sys.exit(main())
