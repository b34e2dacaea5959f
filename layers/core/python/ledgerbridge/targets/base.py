"""The target plug-in contract: what one accounting system implements, in one folder `targets/<name>/`.

A target is a `Plugin` value (by convention `PLUGIN` in `targets/<name>/plugin.py`) that the registry
(targets/registry.py) maps its name to. Generic code - the sync engine, the consumers, the webhook intake, the
hourly dispatch, the admin API and the CLI - reaches a target only through it. docs/adding-a-target.md has the
steps; tests/toy_target.py is a tiny target that tests/integration/test_toy_target.py plugs in to prove them.

The engine owns ordering, mappings, create intents, the content-hash skip, the sync log and write-back to
the platform (ledgerbridge.sync); a target owns the wire. Errors are ledgerbridge.errors types with the
target's own message: PermanentError (recorded, never retried), TransientError (retried with backoff, then
the DLQ), Conflict (a stale concurrency token: the engine re-reads and updates once more).

Required, on the Plugin:
  name, label   registry key (lower case, also the queue and key prefix) and what people read
  settings      the integration settings model: a TargetSettings with `target: Literal["<name>"]`
  documents     canonical records -> the target's documents, and the field diff between two (pure)
  open          a tenant -> its Target: find by natural key, read, create, update (record-level push)

Optional capabilities. On the Target that `open` returns (checked with isinstance):
  BatchWriter     many writes in one round trip; the engine's batch path (job kind `batch`) uses it
  Puller          one change in the target -> the platform (payments back; job kind `pull`)
  CatchUp         changes since a cursor -> pull jobs, for notifications that were lost (job kind `catchup`)
A target written only when its own connector calls in (a desktop accounting system polling for work) keeps
the same bookkeeping: its consumer has the engine prepare each Write (`Engine.prepare`) and keeps it (a Write
is serializable) until the answer arrives, then settles it with `Engine.finish` / `Engine.reject`
(docs/adding-a-target.md, "Written later").
On the Plugin (None when the target has none):
  scheduled_jobs  the jobs the target wants from the hourly dispatch (catch-up, scheduled batch pushes)
  webhook         the target's own notifications: verify the signature, parse them into pull jobs
  connection      connect / disconnect / status (an OAuth consent round trip, or stored credentials); an OAuth
                  target's callback route is /oauth/<name>/callback
  downloads       files the customer fetches to set the target up (GET /tenants/{t}/targets/<name>/<file>)
  summary         the tenant's connection as the console's Overview shows it (a TargetSummary)
  ledger          the ledger's invoices of a period, for the console's reconciliation (a LedgerReader)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.records import Customer, Invoice, Location
    from ledgerbridge.source import Platform
    from ledgerbridge.targets.settings import TargetSettings
    from ledgerbridge.tenants import MappingSettings, Tenant


# -- the record-level push (required) ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRecord:
    """What the target holds for one record."""

    target_id: str
    sync_token: str = ""  # the target's concurrency token; "" where it has none
    document: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    """A tenant's accounting system, one record at a time. The natural key is the value the accounting
    system itself keeps unique, such as an invoice number or a customer's display name (docs/adding-a-target.md,
    Handles, lists each target's)."""

    name: str

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        """The target-unique value of a document that `Documents` built."""
        ...

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        """Look a record up by its natural key; None if the target has no such record."""
        ...

    def read(self, entity: str, target_id: str) -> TargetRecord: ...

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        """Create. `request_id` is the target's idempotency handle: stable across every retry of the same create
        intent, so a resend cannot make a second record."""
        ...

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        """Update `current` (its id and concurrency token) to `document`. On a stale token the target re-reads
        and retries once itself, then raises Conflict or TransientError."""
        ...


class Documents(Protocol):
    """A target's documents built from canonical records, and their field diff (pure: no I/O)."""

    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]: ...
    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]: ...
    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]: ...
    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        """Field-level changes (objects with path, old, new) a write of `new` would make to `current`."""
        ...


# -- one write, as the engine prepared it -----------------------------------------------------------------


class Write(BaseModel):
    """One record the engine has decided to write, with the handles the target must carry. Serializable, so a
    deferred target can keep it in its outbox and hand the same value back when the outcome is known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: str
    source_id: str
    title: str  # what people call the record in the sync log, e.g. "invoice 1042"
    document: dict[str, Any]
    content_hash: str
    natural_key: str
    request_id: str  # the idempotency handle: the create intent's, or derived from the content for an update
    target_id: str = ""  # "" = create; else update this record ...
    sync_token: str = ""  # ... from this concurrency token
    resumed: bool = False  # an earlier attempt may have created it: look it up by natural key before creating

    @property
    def action(self) -> Literal["create", "update"]:
        return "update" if self.target_id else "create"

    @property
    def current(self) -> TargetRecord:
        return TargetRecord(self.target_id, self.sync_token)


@runtime_checkable
class BatchWriter(Protocol):
    """Many writes per round trip (a batch endpoint). The engine still owns every write's
    bookkeeping; the target only sends them and answers per write."""

    batch_max: int  # writes per request
    batch_workers: int  # round trips a batch run keeps in flight

    def batch_ready(self) -> bool:
        """True when a batch can go now without waiting (a rate budget has a batch slot); else the engine
        sends the next write on its own."""
        ...

    def find_many(self, entity: str, natural_keys: Sequence[str]) -> dict[str, TargetRecord]:
        """The records the target has for these natural keys, keyed by natural key folded to lower case."""
        ...

    def write_batch(self, writes: Sequence[Write], request_id: str) -> list[TargetRecord | Exception]:
        """Send `writes` as one request (idempotent under `request_id`). One answer per write, in order: the
        record written, or that write's own error. A failure of the whole request raises."""
        ...

    def worker(self) -> BatchTarget:
        """A copy for another thread: its own connection, the same credentials and rate budget."""
        ...


class BatchTarget(Target, BatchWriter, Protocol):
    """A Target that also writes in batches."""


# -- the other direction: changes in the target back to the platform --------------------------------------


@dataclass(frozen=True)
class Pulled:
    """What one pull job did on the platform (the engine writes it to the sync log)."""

    outcome: Literal["recorded", "skipped"]
    message: str
    target_id: str = ""  # the platform records written, comma-separated


@runtime_checkable
class Puller(Protocol):
    def pull(self, job: SyncJob, platform: Platform) -> Pulled:
        """Make the platform agree with one record of the target (job.source_id is the target's id). Safe to
        repeat: a retried job changes nothing twice. TransientError retries; PermanentError is recorded."""
        ...


@dataclass(frozen=True)
class Changes:
    """A catch-up's findings: pull jobs for changes not yet applied, and where the next catch-up starts."""

    jobs: list[SyncJob]
    cursor: str  # ISO-8601 UTC; the engine advances the stored cursor to it after the jobs are enqueued
    seen: int = 0  # changes the target reported, including those already applied


@runtime_checkable
class CatchUp(Protocol):
    cursor_name: str  # the tenant's cursor this catch-up keeps (ledgerbridge.state.cursors)

    def changes(self, since: str | None, now: datetime) -> Changes:
        """Changes since the cursor (None on the first run). Each job's event id must name the change, so the
        engine's claim drops one already enqueued by a webhook or by an overlapping catch-up."""
        ...


# -- tenant-independent capabilities ----------------------------------------------------------------------


class WebhookIntake(Protocol):
    """The target's own notifications, on POST /webhooks/<name>: one app-level endpoint for every tenant."""

    signature_header: str

    def verify(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the body is signed by the target (headers' names are lower case)."""
        ...

    def jobs(self, body: Any) -> tuple[list[SyncJob], int]:
        """The pull jobs a verified notification asks for (finding each change's tenant), and how many changes
        nobody wants. Raises InvalidInput naming the field for a malformed body."""
        ...


@dataclass(frozen=True)
class ConnectionStatus:
    tenant_id: str
    status: Literal["connected", "disconnected", "reconnect_required"]
    account: str = ""  # the target's id of the connected company or entity
    connected_at: str = ""
    reason: str = ""
    detail: dict[str, str] = field(default_factory=dict)


class Connection(Protocol):
    """Connecting a tenant's account: OAuth consent (begin -> the target's page -> complete), or credentials."""

    def begin(self, tenant_id: str, redirect_uri: str, return_to: str = "") -> str:
        """The URL the customer's browser goes to next. `return_to` is the console page the callback sends the
        browser back to (a path of this API, checked by the target); "" = the callback answers JSON."""
        ...

    def complete(self, params: Mapping[str, str]) -> ConnectionStatus:
        """The target's callback (its query parameters); verifies the state it carries."""
        ...

    def disconnect(self, tenant_id: str) -> ConnectionStatus: ...

    def status(self, tenant_id: str) -> ConnectionStatus: ...


class Download(Protocol):
    """A file the customer downloads to set the target up on their side (a desktop connector's application
    file), served by the files API to a tenant that has the integration."""

    name: str  # the last segment of its path
    media_type: str

    def filename(self, tenant_id: str) -> str: ...

    def render(self, tenant: Tenant, api_base: str) -> str:
        """The file's content; `api_base` is the API's public address (https://host/stage, no trailing /)."""
        ...


# -- what the console shows (optional) ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSummary:
    """A tenant's connection to the target, for people: the Overview's card."""

    state: Literal["connected", "attention", "not_connected", "unknown"]
    detail: str  # one sentence: connected to what, or what is wrong
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) lines: last session, company, credentials checked
    connect_label: str = ""  # "Connect" / "Reconnect" when `connection.begin` starts a consent from the console


@dataclass(frozen=True)
class LedgerDocument:
    """An invoice as the ledger holds it (the reconciliation compares these with the platform's)."""

    target_id: str
    number: str
    customer: str
    total: Decimal
    tax: Decimal
    balance: Decimal
    voided: bool = False
    version: str = ""  # the target's concurrency token where it keeps one: changes on every edit


@dataclass(frozen=True)
class LedgerReading:
    """The ledger's invoices of a period, and when the ledger said so."""

    documents: list[LedgerDocument]
    as_of: str = ""  # ISO-8601 UTC of the reading; "" = read just now
    note: str = ""  # what people should know about this reading (where it came from, a refresh requested)
    pending: bool = False  # no reading yet: `note` says when one comes


class LedgerReader(Protocol):
    def invoices(self, tenant: Tenant, first: date, last: date) -> LedgerReading:
        """Every invoice the ledger dates first..last (inclusive)."""
        ...


# -- the plug-in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plugin:
    name: str
    label: str
    settings: type[TargetSettings]
    documents: Documents
    open: Callable[[Tenant], Target]
    scheduled_jobs: Callable[[Tenant, datetime], list[SyncJob]] | None = None
    webhook: WebhookIntake | None = None
    connection: Connection | None = None
    downloads: tuple[Download, ...] = ()
    summary: Callable[[Tenant], TargetSummary] | None = None
    ledger: LedgerReader | None = None
    # Documents that depend on the tenant's own target settings (Intacct: accounts, dimensions, terms); the
    # engine uses it instead of `documents` when given.
    documents_for: Callable[[Tenant], Documents] | None = None

    def documents_of(self, tenant: Tenant) -> Documents:
        return self.documents_for(tenant) if self.documents_for is not None else self.documents
