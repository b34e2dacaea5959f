"""`make bench` = `python -m bench`: run every benchmark module, print a table, write bench/results.json.

Each module in BENCHMARKS has `run() -> list[{"name", "value", "unit"}]`; adding a benchmark is one line.
Benchmarks print figures; nothing here (or in the tests) asserts on time.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

BENCHMARKS = [
    "bench.exports",
    "bench.qbo",
    "bench.coldstart",
    "bench.intacct",
    "bench.qbd",
]
RESULTS = Path(__file__).resolve().parent / "results.json"


def table(results: list[dict[str, Any]]) -> str:
    width = max([len(r["name"]) for r in results] + [4])
    lines = [f"{'name':<{width}}  {'value':>14}  unit", f"{'-' * width}  {'-' * 14}  ----"]
    for r in results:
        value = r["value"]
        shown = f"{value:,.2f}" if isinstance(value, float) and value < 100 else f"{value:,}"
        lines.append(f"{r['name']:<{width}}  {shown:>14}  {r['unit']}")
    return "\n".join(lines)


def main() -> int:
    results: list[dict[str, Any]] = []
    for name in BENCHMARKS:
        started = time.perf_counter()
        print(f"{name} ...", file=sys.stderr, flush=True)
        results.extend(importlib.import_module(name).run())
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n{platform.python_implementation()} {platform.python_version()}, {RESULTS.name} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
