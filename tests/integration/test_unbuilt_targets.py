"""Sage Intacct is not built yet: nothing is lost and nothing cycles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledgerbridge.state import synclog
from sandbox.stack.functions import by_folder, invoke
from tests.helpers import make_tenant

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_intacct_jobs_are_logged_as_not_available_and_not_retried(aws: Any) -> None:
    make_tenant("summit-fire")
    for target in ("intacct",):
        event = json.loads((EVENTS / f"sync_{target}.json").read_text())
        assert invoke(by_folder(f"sync_{target}"), event) == {"batchItemFailures": []}
    outcomes = {(e.target, e.outcome) for e in synclog.recent("summit-fire")}
    assert outcomes == {("intacct", "failed")}
    assert all("not available" in e.message for e in synclog.recent("summit-fire"))
