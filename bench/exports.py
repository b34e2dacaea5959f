"""Export benchmark: labor hours at 100k and 1M rows (prints figures; asserts nothing).

- render only: the renderer on N labor rows (Sage 300 CRE payroll layout), best of 3, against csv.writer
  writing the same rows' raw values (the ceiling: no cleaning, escaping, rounding or hashing).
- end to end: `run_export` of one month with N clock events: the ServiceTrade sandbox over HTTP (pages of
  2000, the platform's maximum) -> records -> validation and overtime per technician -> render -> S3
  multipart upload to a moto server -> manifest and delivered ids in DynamoDB. The sandbox and moto run in
  their own processes, so the measured process is the export worker alone.
- peak RSS: every size runs in a fresh subprocess (ru_maxrss is per process).

    .venv/bin/python -m bench.exports               # both sizes; `python -m bench` runs every benchmark
    .venv/bin/python -m bench.exports --sizes 20000  # a quick look
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import socket
import subprocess
import sys
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100_000, 1_000_000)
TZ = "America/New_York"
PERIOD = "2025-10"  # the clock events fill October 2025 (local), the month the run exports
TECH_ENTRIES = 333  # clock events per technician in the month: about 11 a day, back to back
JOBS = 800


# --- the sandbox's data: N clock events that pass validation ---------------------------------------------


def dataset(rows: int) -> Any:
    """The demo company with rows/333 technicians (every one with a payroll number) and 800 jobs, and N
    clock events in October: each technician's entries follow one another (no overlaps, under 24 h a day),
    so every entry is exported and overtime rules have work to do."""
    from sandbox.servicetrade import PAYROLL_SYSTEM, ClockBlock, generate

    technicians = max(1, rows // TECH_ENTRIES)
    store = generate(labor_rows=0, technicians=technicians, jobs=JOBS)
    users = sorted(u["id"] for u in store.users.values() if u.get("isTech"))[-technicians:]
    for n, uid in enumerate(users):
        store.external_ids[("user", uid)] = {PAYROLL_SYSTEM: f"P{10_000 + n}"}
    jobs = sorted(j["id"] for j in store.jobs.values() if j["status"] == "completed")[-JOBS:]
    tz = ZoneInfo(TZ)
    start = int(datetime(2025, 10, 1, tzinfo=tz).timestamp())
    span = int(datetime(2025, 11, 1, tzinfo=tz).timestamp()) - start - 3600
    slots = -(-rows // technicians)
    cycle = span // slots  # one technician's entries start `cycle` seconds apart
    store.clock_block = ClockBlock(
        first_id=store.reserve_ids(rows),
        user_ids=tuple(users),
        job_ids=tuple(jobs),
        clock_in=array(
            "q", (start + (i // technicians) * cycle + (i % technicians) * cycle // technicians for i in range(rows))
        ),
        duration=array("I", (cycle * 6 // 10 + (i * 7_919) % (cycle // 4) for i in range(rows))),
        user_idx=array("H", (i % technicians for i in range(rows))),
        job_idx=array("I", ((i * 7_919 + i // technicians) % len(jobs) for i in range(rows))),
        activity=array("B", (0 for _ in range(rows))),
    )
    return store


def serve_sandbox(rows: int, port: int) -> None:
    """Child process: serve the data set until stdin closes."""
    from sandbox.servicetrade import start

    server = start(dataset(rows), port=port)
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def serve_moto(port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"http://127.0.0.1:{port}", flush=True)
    sys.stdin.read()
    server.stop()


# --- the measured children ------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def end_to_end(rows: int, st_url: str, aws_url: str) -> dict[str, Any]:
    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto takes any credentials
    os.environ.update(fake, AWS_ENDPOINT_URL=aws_url, AWS_DEFAULT_REGION="us-east-1")
    os.environ.update(
        POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_LOG_LEVEL="ERROR"
    )
    from ledgerbridge import aws
    from ledgerbridge.config import get_config
    from ledgerbridge.exports.dispatch import ExportJob
    from ledgerbridge.exports.run import run_export
    from ledgerbridge.source.servicetrade import ServiceTradeSource
    from ledgerbridge.tenants import ConnectorSettings, Tenant
    from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from sandbox.stack.provision import provision

    stack = provision(prefix=f"bench{rows}")
    os.environ.update(stack.all_env())
    get_config.cache_clear()
    aws.reset()
    settings = ConnectorSettings(connector="sage300cre", connections=["labor_hours"], period="month")
    tenant = Tenant(tenant_id="bench-co", name="Bench", timezone=TZ, connectors=[settings])
    source = ServiceTradeSource(
        st_url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, timezone=TZ, page_size=2000
    )
    job = ExportJob(tenant_id="bench-co", connector="sage300cre", connection="labor_hours", period=PERIOD)
    phases: dict[str, float] = {}  # phase -> when it started

    def progress(phase: str, done: int, total: int | None) -> None:
        phases.setdefault(phase, time.perf_counter())

    before = peak_rss_mb()
    started = time.perf_counter()
    bucket = get_config().file_drop_bucket
    manifest = run_export(tenant, job, source, aws.client("s3"), bucket, datetime.now(UTC), progress=progress)
    seconds = time.perf_counter() - started
    marks = [("start", started), *sorted(phases.items(), key=lambda p: p[1]), ("end", time.perf_counter())]
    return {
        "entries": rows,
        "entry_days": manifest.records,
        "rows": manifest.rows,
        "problems": manifest.problem_count,
        "bytes": manifest.size,
        "parts": manifest.parts,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        # reading (platform over HTTP + records), checking (per-technician validation and hours, job
        # numbers), rendering (render + S3 upload + manifest and delivered ids in DynamoDB)
        "phases": {name: round(marks[i + 1][1] - at, 1) for i, (name, at) in enumerate(marks[:-1])},
    }


def render_only(rows: int) -> dict[str, Any]:
    from bench.render import make_labor
    from ledgerbridge.connectors import RenderSummary, RunInfo, labor_rows, load_builtin, render

    layout = load_builtin("sage300cre", "labor_hours")
    labor = make_labor(rows)
    prepared = list(labor_rows(labor, RunInfo()))
    raw = [
        (r.work_date, r.employee_number, r.job_number, "", "", "N", "", "", "",
         "REG" if r.pay_type == "regular" else "OT", r.hours, "", "", "")
        for r in labor
    ]  # fmt: skip

    def ours() -> None:
        for _chunk in render(layout, prepared, RenderSummary()):
            pass

    def writer() -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(raw)
        buffer.getvalue().encode("cp1252")

    return {"render_s": best(ours), "csv_s": best(writer)}


def best(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


# --- the parent: processes, figures ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.exports", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def measure(rows: int) -> dict[str, Any]:
    sandbox = child("serve-sandbox", str(rows), str(free_port()))
    moto = child("serve-moto", str(free_port()))
    try:
        assert sandbox.stdout is not None and moto.stdout is not None
        st_url, aws_url = sandbox.stdout.readline().strip(), moto.stdout.readline().strip()
        out = subprocess.run(
            [sys.executable, "-m", "bench.exports", "e2e", str(rows), st_url, aws_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        e2e = json.loads(out.strip().splitlines()[-1])
    finally:
        for process in (sandbox, moto):
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=30)
    out = subprocess.run(
        [sys.executable, "-m", "bench.exports", "render", str(rows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {"e2e": e2e, "render": json.loads(out.strip().splitlines()[-1])}


def label(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows >= 1_000_000 else f"{rows // 1000}k"


def run(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    rss: dict[int, float] = {}
    for rows in sizes:
        started = time.perf_counter()
        m = measure(rows)
        e, r, n = m["e2e"], m["render"], label(rows)
        rss[rows] = e["peak_rss_mb"]
        results += [
            {"name": f"exports.render.{n}", "value": round(rows / r["render_s"]), "unit": "rows/s"},
            {"name": f"exports.csv_writer.{n}", "value": round(rows / r["csv_s"]), "unit": "rows/s"},
            {
                "name": f"exports.render_vs_csv_writer.{n}",
                "value": round(r["csv_s"] / r["render_s"], 2),
                "unit": "ratio (target >= 0.5)",
            },
            {"name": f"exports.e2e.{n}", "value": round(e["entries"] / e["seconds"]), "unit": "entries/s"},
            {"name": f"exports.e2e_file_rows.{n}", "value": round(e["rows"] / e["seconds"]), "unit": "rows/s"},
            {"name": f"exports.e2e_seconds.{n}", "value": round(e["seconds"], 1), "unit": "s"},
            {"name": f"exports.e2e_peak_rss.{n}", "value": round(e["peak_rss_mb"], 1), "unit": "MB"},
        ]
        print(
            f"  {n}: {e['entries']:,} entries -> {e['rows']:,} rows, {e['bytes'] / 2**20:.1f} MiB in {e['parts']} "
            f"parts, {e['problems']} problems; RSS {e['rss_before_mb']:.0f} MB at start, {e['peak_rss_mb']:.0f} "
            f"MB peak ({time.perf_counter() - started:.0f} s with set-up); phases (s): {e['phases']}",
            file=sys.stderr,
        )
    if len(rss) >= 2:
        small, big = min(rss), max(rss)
        results.append(
            {
                "name": f"exports.rss_ratio.{label(big)}_vs_{label(small)}",
                "value": round(rss[big] / rss[small], 2),
                "unit": "ratio (target <= 1.2)",
            }
        )
    return results


def main(argv: list[str]) -> None:
    if argv and argv[0] == "serve-sandbox":
        return serve_sandbox(int(argv[1]), int(argv[2]))
    if argv and argv[0] == "serve-moto":
        return serve_moto(int(argv[1]))
    if argv and argv[0] == "e2e":
        print(json.dumps(end_to_end(int(argv[1]), argv[2], argv[3])))
        return None
    if argv and argv[0] == "render":
        print(json.dumps(render_only(int(argv[1]))))
        return None
    parser = argparse.ArgumentParser(prog="python -m bench.exports")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    from bench.__main__ import table

    print(table(run(tuple(args.sizes))))
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
