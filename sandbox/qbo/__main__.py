"""python -m sandbox.qbo [--port 8765]: run the QBO sandbox in the foreground (for the demo and curl)."""

from __future__ import annotations

import argparse
import time

from sandbox.qbo import start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--webhook-url", default="")
    args = parser.parse_args()
    server = start(port=args.port, webhook_url=args.webhook_url, webhook_auto_flush_s=1.0 if args.webhook_url else 0)
    print(f"QBO sandbox on {server.url}  realm {server.realm_id}  discovery {server.discovery_url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
