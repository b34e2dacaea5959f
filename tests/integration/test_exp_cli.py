"""`ledgerbridge export run`: in-process runs with a progress display, the manifest on stdout."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerbridge.errors import InvalidInput
from ledgerbridge.exports.cli import ProgressDisplay, add_commands
from ledgerbridge.state import exports
from sandbox.servicetrade import SandboxServer, start
from tests.integration.test_exp_runs import WEEK, body, tenant_for


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start() as server:
        yield server


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ledgerbridge")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_export_run_prints_each_manifest_and_shows_progress(
    aws: Any, st: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant_for(st)
    args = parse(["export", "run", "--tenant", "acme-fire", "--connector", "csv", "--period", WEEK])
    err = io.StringIO()
    assert args.func(args, stderr=err) == 0
    out = capsys.readouterr().out
    manifests = [json.loads(chunk) for chunk in out.replace("}\n{", "}\x00{").split("\x00")]
    assert [m["connection"] for m in manifests] == ["ar_invoices", "labor_hours"]
    assert all(m["trigger"] == "cli" and m["status"] == "ready" for m in manifests)
    assert body(manifests[1]["key"]).count(b"\r\n") == manifests[1]["rows"] + 1
    assert exports.load("acme-fire", f"csv.labor_hours.{WEEK}").sha256 == manifests[1]["sha256"]
    lines = err.getvalue().splitlines()
    assert any("reading labor entries" in line for line in lines)
    assert any("rendering [" in line and "##" in line for line in lines)  # a bar once the total is known
    assert "\r" not in err.getvalue()  # not a terminal: plain lines


def test_one_connection_and_bad_input(aws: Any, st: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    tenant_for(st)
    args = parse(["export", "run", "--tenant", "acme-fire", "--connector", "csv", "--period", WEEK,
                  "--connection", "ar_invoices"])  # fmt: skip
    assert args.func(args, stderr=io.StringIO()) == 0
    assert json.loads(capsys.readouterr().out)["connection"] == "ar_invoices"
    for argv, field in (
        (["--period", "2025-W99"], "period"),
        (["--period", WEEK, "--connection", "direct_costs"], "connection"),
    ):
        args = parse(["export", "run", "--tenant", "acme-fire", "--connector", "csv", *argv])
        with pytest.raises(InvalidInput) as exc:
            args.func(args, stderr=io.StringIO())
        assert exc.value.field == field
    args = parse(["export", "run", "--tenant", "acme-fire", "--connector", "computerease", "--period", WEEK])
    with pytest.raises(InvalidInput, match="no enabled 'computerease' connector"):
        args.func(args, stderr=io.StringIO())


def test_progress_on_a_terminal_redraws_one_line() -> None:
    tty = Tty()
    show = ProgressDisplay(tty, "csv/labor_hours 2025-W45")
    show("reading labor entries", 5000, None)
    for n in range(0, 101, 10):
        show("rendering", n, 100)
    show.close()
    text = tty.getvalue()
    assert "\r" in text and "reading labor entries 5,000" in text
    assert "[##############################] 100/100" in text
    assert text.endswith("\n")


def test_progress_off_a_terminal_prints_occasional_lines() -> None:
    log = io.StringIO()
    show = ProgressDisplay(log, "x", every_s=3600)
    for n in range(1, 10_001):
        show("rendering", n, 10_000)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2  # the phase's first line and its last
    assert lines[-1].startswith("x: rendering [") and "10,000/10,000" in lines[-1]
