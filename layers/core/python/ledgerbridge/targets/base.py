"""The contract between the sync engine (ledgerbridge.sync) and one accounting system.

The engine owns ordering, mappings, intents, the sync log and write-back to the platform; a Target owns
the wire: how a canonical record becomes the target's document, and how to create, update, read and look
it up by its natural key (the value the accounting system itself keeps unique, e.g. QBO DocNumber or
DisplayName). Errors are raised as ledgerbridge.errors.PermanentError or TransientError, with the target's
own message, so the engine can decide retry vs record-and-stop without knowing the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TargetRecord:
    """What the target holds for one record."""

    target_id: str
    sync_token: str = ""  # QBO SyncToken, QBD EditSequence; "" where the target has none
    document: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    name: str  # "qbo" | "qbd" | "intacct"

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        """The target-unique value of a document built by build_document."""
        ...

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        """Look a record up by its natural key; None if the target has no such record."""
        ...

    def read(self, entity: str, target_id: str) -> TargetRecord: ...

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        """Create; request_id is the target's idempotency handle (QBO requestid) and is stable across
        retries of the same intent."""
        ...

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        """Update `current` (its id and concurrency token) to `document`; on a stale token the target
        re-reads and retries once before raising."""
        ...
