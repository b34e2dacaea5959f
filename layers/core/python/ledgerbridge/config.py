"""Settings from the environment. template.yaml sets these names; the local stack sets the same ones.

Read lazily (not at import), so tests and the local stack can set the environment before first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set (template.yaml sets it in Lambda)")
    return value


@dataclass(frozen=True)
class Config:
    state_table: str
    idempotency_table: str
    file_drop_bucket: str
    export_queue_url: str
    qbo_sync_queue_url: str
    qbd_sync_queue_url: str
    intacct_sync_queue_url: str
    qbo_api_base_url: str
    qbo_discovery_url: str
    qbo_app_secret_name: str
    secret_prefix: str  # ledgerbridge/{stage}: IAM lets a function read only its own stage's secrets
    webhook_max_bytes: int
    webhook_replay_window_s: int
    download_link_ttl_s: int

    def sync_queue_url(self, target: str) -> str:
        return {
            "qbo": self.qbo_sync_queue_url,
            "qbd": self.qbd_sync_queue_url,
            "intacct": self.intacct_sync_queue_url,
        }[target]


@lru_cache(maxsize=1)
def get_config() -> Config:
    return Config(
        state_table=_env("STATE_TABLE"),
        idempotency_table=_env("IDEMPOTENCY_TABLE", ""),
        file_drop_bucket=_env("FILE_DROP_BUCKET", ""),
        export_queue_url=_env("EXPORT_QUEUE_URL", ""),
        qbo_sync_queue_url=_env("QBO_SYNC_QUEUE_URL", ""),
        qbd_sync_queue_url=_env("QBD_SYNC_QUEUE_URL", ""),
        intacct_sync_queue_url=_env("INTACCT_SYNC_QUEUE_URL", ""),
        qbo_api_base_url=_env("QBO_API_BASE_URL", "https://quickbooks.api.intuit.com"),
        qbo_discovery_url=_env(
            "QBO_DISCOVERY_URL", "https://developer.api.intuit.com/.well-known/openid_configuration"
        ),
        qbo_app_secret_name=_env("QBO_APP_SECRET_NAME", "ledgerbridge/local/app/qbo"),
        secret_prefix=_env("SECRET_PREFIX", "ledgerbridge/local"),
        webhook_max_bytes=int(_env("WEBHOOK_MAX_BYTES", str(256 * 1024))),
        webhook_replay_window_s=int(_env("WEBHOOK_REPLAY_WINDOW_S", str(24 * 3600))),
        download_link_ttl_s=int(_env("DOWNLOAD_LINK_TTL_S", "300")),
    )
