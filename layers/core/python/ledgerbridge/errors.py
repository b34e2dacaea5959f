"""Domain errors. The split that matters is permanent (record it, never retry) vs transient (retry, then DLQ)."""

from __future__ import annotations


class LedgerBridgeError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(LedgerBridgeError):
    """A tenant, record or file that does not exist (or is not the caller's)."""


class UnknownTenant(NotFound):
    """No tenant by that id (never created, or deleted since a job for it was queued): nothing to retry."""


class InvalidInput(LedgerBridgeError):
    """Input that can never succeed as given; `field` names the culprit."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class PermanentError(LedgerBridgeError):
    """The target refused the record for a reason a retry cannot fix (validation, duplicate, missing ref)."""

    def __init__(self, message: str, code: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


class TransientError(LedgerBridgeError):
    """Worth retrying later: throttling, 5xx, timeouts. `retry_after` is the target's own hint, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthorizationRevoked(PermanentError):
    """The customer must reconnect (refresh token expired or revoked)."""


class Conflict(PermanentError):
    """The target holds a newer version than the concurrency token sent (docs/adding-a-target.md, Handles):
    re-read and write again; permanent only if that keeps happening."""
