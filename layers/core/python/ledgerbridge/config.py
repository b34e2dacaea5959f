"""Settings from the environment. template.yaml sets these names; the local stack sets the same ones.

Each function states what it needs as an Environment model and checks it at cold start (`check`, at module
scope of its handler), so a missing table name fails the init with its name, not the first AWS call. Code
below the handlers reads the values through `get_config()`, built lazily (tests and the local stack set the
environment before first use). A target's own settings (its API URLs, app secret) are its plug-in's: they
live in targets/<name>/settings.py. A target's queue is `<NAME>_SYNC_QUEUE_URL`, for every target alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Environment(BaseModel):
    """Field names are the environment variables' names, lower-cased."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=str.upper)

    @classmethod
    def from_env(cls) -> Self:
        try:
            return cls.model_validate(dict(os.environ))
        except ValidationError as exc:
            problems = ", ".join(f"{'.'.join(str(p) for p in e['loc'])} ({e['msg']})" for e in exc.errors())
            raise RuntimeError(
                f"this function's environment is incomplete: {problems} (template.yaml sets it)"
            ) from exc


NonEmpty = Field(min_length=1)
E = TypeVar("E", bound="Environment")


class StateEnvironment(Environment):
    """Every function: the state table."""

    state_table: str = NonEmpty


class ApiEnvironment(StateEnvironment):
    webhook_max_bytes: int = Field(default=256 * 1024, gt=0)
    webhook_replay_window_s: int = Field(default=24 * 3600, gt=0)


class FilesEnvironment(StateEnvironment):
    file_drop_bucket: str = NonEmpty
    download_link_ttl_s: int = Field(default=300, gt=0, le=3600)


class SyncEnvironment(StateEnvironment):
    """A target's consumer: its idempotency records, and its own queue for continuations and catch-ups."""

    idempotency_table: str = NonEmpty


class ExportEnvironment(StateEnvironment):
    file_drop_bucket: str = NonEmpty
    export_queue_url: str = NonEmpty


def check(model: type[E]) -> E:
    """Validate a function's environment now (call at module scope of its handler)."""
    return model.from_env()


@dataclass(frozen=True)
class Config:
    state_table: str
    idempotency_table: str
    file_drop_bucket: str
    export_queue_url: str
    secret_prefix: str  # ledgerbridge/{stage}: IAM lets a function read only its own stage's secrets
    webhook_max_bytes: int
    webhook_replay_window_s: int
    download_link_ttl_s: int

    def sync_queue_url(self, target: str) -> str:
        name = f"{target.upper()}_SYNC_QUEUE_URL"
        url = os.environ.get(name, "")
        if not url:
            raise RuntimeError(f"environment variable {name} is not set (template.yaml sets it in Lambda)")
        return url


@lru_cache(maxsize=1)
def get_config() -> Config:
    state = StateEnvironment.from_env()
    api = ApiEnvironment.from_env()
    return Config(
        state_table=state.state_table,
        idempotency_table=os.environ.get("IDEMPOTENCY_TABLE", ""),
        file_drop_bucket=os.environ.get("FILE_DROP_BUCKET", ""),
        export_queue_url=os.environ.get("EXPORT_QUEUE_URL", ""),
        secret_prefix=os.environ.get("SECRET_PREFIX", "ledgerbridge/local"),
        webhook_max_bytes=api.webhook_max_bytes,
        webhook_replay_window_s=api.webhook_replay_window_s,
        download_link_ttl_s=int(os.environ.get("DOWNLOAD_LINK_TTL_S", "300")),
    )
