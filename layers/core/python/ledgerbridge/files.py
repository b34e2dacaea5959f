"""The customer's side of the file drop: list exports, download through a short-lived link, confirm an
import, save a custom layout. Every key is checked against the caller's tenant prefix before anything is
signed, and a link lives minutes, not hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from time import monotonic
from typing import Any, Literal, Protocol

from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.state import exports
from ledgerbridge.state.exports import Manifest

MAX_LINK_TTL_S = 900  # links expire in minutes, never hours
Part = Literal["file", "errors"]


def tenant_prefix(tenant_id: str) -> str:
    return f"{tenant_id}/"


def inside_prefix(tenant_id: str, key: str) -> bool:
    return key.startswith(tenant_prefix(tenant_id)) and ".." not in key.split("/") and "//" not in key


def download_link(s3: Any, bucket: str, tenant_id: str, export_id: str, part: Part, ttl_s: int) -> str:
    manifest = exports.load(tenant_id, export_id)
    key = manifest.key if part == "file" else manifest.error_key
    if not key:
        why = {"held": "it was held by validation (download part=errors)", "failed": "the run failed"}
        reason = why.get(manifest.status, "there were no problems") if part == "file" else "there were no problems"
        raise NotFound(f"export {export_id!r} has no {'error ' if part == 'errors' else ''}file: {reason}")
    if not inside_prefix(tenant_id, key):
        # Manifests are written by the export worker only; refuse to sign anything outside the prefix.
        raise NotFound(f"no export {export_id!r} for this tenant")
    filename = key.rsplit("/", 1)[-1]
    url: str = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'},
        ExpiresIn=max(1, min(ttl_s, MAX_LINK_TTL_S)),
    )
    return url


class InvoiceStatusSetter(Protocol):
    def set_invoice_status(self, invoice_id: str, status: str) -> Any: ...


CONFIRM_LIMIT = 500  # invoices one confirm call marks (a platform PUT each); a bigger export takes more calls
CONFIRM_SPARE_S = 8.0  # a confirm call stops marking this long before the API function's 29 s timeout


def confirm_within(
    tenant_id: str, export_id: str, open_platform: Callable[[], InvoiceStatusSetter], remaining_s: float
) -> Manifest:
    """confirm_import as an API call runs it (files API, console): at most CONFIRM_LIMIT invoices, stopping
    CONFIRM_SPARE_S before the caller's timeout (`remaining_s`: API Gateway's 29 s). The platform is opened on
    the first invoice to mark, so repeating a finished confirm never signs in to it."""
    opened: list[InvoiceStatusSetter] = []

    def mark_processed(invoice_id: str) -> None:
        if not opened:
            opened.append(open_platform())
        opened[0].set_invoice_status(invoice_id, "processed")

    deadline = monotonic() + remaining_s - CONFIRM_SPARE_S
    return confirm_import(tenant_id, export_id, mark_processed, CONFIRM_LIMIT, deadline)


def confirm_import(
    tenant_id: str,
    export_id: str,
    mark_processed: Callable[[str], None],
    limit: int | None = None,
    deadline: float | None = None,
) -> Manifest:
    """The customer says the file is in their books: its invoices become `processed` in the platform
    (so the next run never picks them up) and every record it delivered is remembered as imported (so no
    later run exports it again). Safe to repeat: a retry after a timeout finishes the job.

    Bounded (`limit` invoices, or until the `deadline` on time.monotonic, at least one): a big export is
    confirmed over several calls. The manifest counts the invoices marked so far (`confirmed_records`, in
    the delivered order) and stays `ready` until the last one; each call goes on where the last stopped."""
    manifest = exports.load(tenant_id, export_id)
    if manifest.status == "confirmed":
        return manifest
    if manifest.status != "ready":
        raise InvalidInput(
            f"export {export_id!r} is {manifest.status}: nothing was delivered; fix the problems and re-run it",
            "export_id",
        )
    chunks = list(exports.delivered(tenant_id, export_id))
    if manifest.connection == "ar_invoices":
        ids = [invoice_id for _day, day_ids in chunks for invoice_id in day_ids]
        done = manifest.confirmed_records
        stop = len(ids) if limit is None else min(len(ids), done + max(1, limit))
        try:
            while done < stop and (deadline is None or done == manifest.confirmed_records or monotonic() < deadline):
                mark_processed(ids[done])
                done += 1
        finally:  # a failure keeps what was marked: the retry goes on from there
            if manifest.confirmed_records < done < len(ids):
                manifest = manifest.model_copy(update={"confirmed_records": done})
                exports.save(manifest)
        if done < len(ids):
            return manifest
    exports.mark_imported(tenant_id, manifest.connection, export_id, chunks)
    confirmed = manifest.model_copy(
        update={
            "status": "confirmed",
            "confirmed_at": datetime.now(UTC).isoformat(),
            "confirmed_records": sum(len(ids) for _day, ids in chunks),
        }
    )
    exports.save(confirmed)
    return confirmed


def confirm_remaining(manifest: Manifest) -> int:
    """Invoices a confirm in progress has still to mark (0 once confirmed)."""
    return 0 if manifest.status == "confirmed" else max(0, manifest.records - manifest.confirmed_records)


def public(manifest: Manifest) -> dict[str, Any]:
    """A manifest as the API shows it (keys are the caller's own; nothing else is internal)."""
    return manifest.model_dump(mode="json")
