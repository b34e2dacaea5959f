"""Stream bytes to S3 by multipart upload: memory holds one part, whatever the file's size.

Parts are 8 MiB (S3's minimum is 5 MiB for all but the last). A failure aborts the upload, so no
half-written object ever appears under the key; the bucket's lifecycle also aborts stale uploads after a
day. `commit` is asked once every byte is sent: False aborts instead of completing (a run that validation
held after its bytes were streamed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Uploaded:
    key: str
    size: int
    sha256: str
    parts: int
    committed: bool = True
    max_buffer: int = 0  # the most bytes held at once: one part plus one chunk


def upload(
    s3: Any,
    bucket: str,
    key: str,
    chunks: Iterable[bytes],
    content_type: str,
    *,
    commit: Callable[[], bool] = lambda: True,
    part_size: int = PART_SIZE,
) -> Uploaded:
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
    digest = hashlib.sha256()
    size = max_buffer = 0
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
    parts: list[dict[str, Any]] = []
    buffer = bytearray()

    def flush() -> None:
        number = len(parts) + 1
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer))
        parts.append({"PartNumber": number, "ETag": etag["ETag"]})
        buffer.clear()

    try:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            buffer += chunk
            max_buffer = max(max_buffer, len(buffer))
            if len(buffer) >= part_size:
                flush()
        if buffer or not parts:
            flush()
        if not commit():
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            return Uploaded(key, size, digest.hexdigest(), len(parts), committed=False, max_buffer=max_buffer)
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    return Uploaded(key, size, digest.hexdigest(), len(parts), max_buffer=max_buffer)
