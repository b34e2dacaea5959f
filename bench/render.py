"""Render speed vs csv.writer on the same rows (prints figures; asserts nothing).

    .venv/bin/python bench/render.py [rows]

Baselines: csv.writer writing (a) the same rows as raw values (date, str, Decimal: what the records hold;
csv.writer calls str() on them) and (b) the finished cell strings our renderer writes, both encoded
to cp1252 like the export. The renderer goes from Row objects to encoded, hashed chunks.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from ledgerbridge.connectors import RenderSummary, RunInfo, labor_rows, load_builtin, render
from ledgerbridge.connectors.rows import LaborRow


def make_labor(n: int) -> list[LaborRow]:
    rnd = random.Random(7)
    start = date(2024, 5, 1)
    rows = []
    for i in range(n):
        tech = rnd.randrange(400)
        job = rnd.randrange(3000)
        rows.append(
            LaborRow(
                work_date=start + timedelta(days=i % 31),
                employee_number=str(1000 + tech),
                technician_id=f"t{tech}",
                technician_name=f"Tech {tech}",
                job_id=f"j{job}",
                job_name=f"{job // 100:02d}-{job % 1000:03d}",
                job_number=f"{job // 100:02d}-{job % 1000:03d}",
                pay_type="overtime" if i % 7 == 0 else "regular",
                hours=Decimal(rnd.randrange(1, 48)) / 4,
            )
        )
    return rows


def best(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    layout = load_builtin("sage300cre", "labor_hours")
    labor = make_labor(n)
    rows = list(labor_rows(labor, RunInfo()))
    raw = [
        (
            r.work_date,
            r.employee_number,
            r.job_number,
            "",
            "",
            "N",
            "",
            "",
            "",
            "REG" if r.pay_type == "regular" else "OT",
            r.hours,
            "",
            "",
            "",
        )
        for r in labor
    ]
    summary = RenderSummary()
    rendered = b"".join(render(layout, rows, summary))
    cells = [line.split(",") for line in rendered.decode("cp1252").split("\r\n") if line]

    def ours() -> None:
        for _chunk in render(layout, rows, RenderSummary()):
            pass

    def writer(data: list) -> None:  # type: ignore[type-arg]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(data)
        buffer.getvalue().encode("cp1252")

    def cold() -> None:
        from ledgerbridge.connectors import compile_layout

        for _chunk in render(compile_layout(layout), rows, RenderSummary()):
            pass

    unique = list(labor_rows([replace(r, job_number=f"J{i:07d}") for i, r in enumerate(labor)], RunInfo()))

    def all_unique() -> None:
        from ledgerbridge.connectors import compile_layout

        for _chunk in render(compile_layout(layout), unique, RenderSummary()):
            pass

    t_ours = best(ours)
    t_cold = best(cold)
    t_unique = best(all_unique)
    t_raw = best(lambda: writer(raw))
    t_cells = best(lambda: writer(cells))
    print(f"rows: {n}   bytes: {summary.bytes}   sha256: {summary.sha256[:16]}...")
    print(f"render          {n / t_ours:>12,.0f} rows/s  ({t_ours * 1000:.0f} ms)")
    print(f"render, cold    {n / t_cold:>12,.0f} rows/s  ({t_cold * 1000:.0f} ms)   (fresh compile: empty cell caches)")
    print(f"render, unique  {n / t_unique:>12,.0f} rows/s  ({t_unique * 1000:.0f} ms)   (a new job number every row)")
    print(f"csv.writer raw  {n / t_raw:>12,.0f} rows/s  ({t_raw * 1000:.0f} ms)")
    print(f"csv.writer str  {n / t_cells:>12,.0f} rows/s  ({t_cells * 1000:.0f} ms)")
    for name, t in (("render", t_ours), ("render, cold", t_cold), ("render, unique", t_unique)):
        print(f"{name:<15} / csv.writer raw {t_raw / t:.2f}   / csv.writer str {t_cells / t:.2f}")


if __name__ == "__main__":
    main()
