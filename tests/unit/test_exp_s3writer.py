"""The multipart writer streams: memory holds one part plus one chunk, whatever the size of the file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerbridge.exports import s3writer

MIB = 1024 * 1024


class RecordingS3:
    """Records every call; keeps only the sizes of the parts, never their bytes."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.part_sizes: list[int] = []
        self.completed: dict[str, Any] | None = None

    def create_multipart_upload(self, **kw: Any) -> dict[str, str]:
        self.calls.append("create")
        return {"UploadId": "u-1"}

    def upload_part(self, **kw: Any) -> dict[str, str]:
        self.calls.append("part")
        self.part_sizes.append(len(kw["Body"]))
        return {"ETag": f'"{kw["PartNumber"]}"'}

    def complete_multipart_upload(self, **kw: Any) -> None:
        self.calls.append("complete")
        self.completed = kw["MultipartUpload"]

    def abort_multipart_upload(self, **kw: Any) -> None:
        self.calls.append("abort")


def chunks(total: int, size: int, digest: Any) -> Iterator[bytes]:
    """`total` bytes in chunks of `size`, made on demand (the test never holds the file either)."""
    sent = 0
    n = 0
    while sent < total:
        chunk = bytes([n % 251]) * min(size, total - sent)
        digest.update(chunk)
        sent += len(chunk)
        n += 1
        yield chunk


def test_a_large_file_goes_up_in_parts_without_being_held_in_memory() -> None:
    s3, expected = RecordingS3(), hashlib.sha256()
    total = 200 * MIB + 12345
    done = s3writer.upload(s3, "b", "t/f.csv", chunks(total, 64 * 1024, expected), "text/csv")
    assert done.size == total and done.sha256 == expected.hexdigest()
    assert done.parts == len(s3.part_sizes) == 26  # 25 parts of 8 MiB, then the rest
    assert s3.part_sizes[:-1] == [8 * MIB] * 25 and s3.part_sizes[-1] == total - 25 * 8 * MIB
    assert done.max_buffer < s3writer.PART_SIZE + 64 * 1024  # one part plus one chunk, never the file
    assert s3.calls[0] == "create" and s3.calls[-1] == "complete"
    assert s3.completed is not None and [p["PartNumber"] for p in s3.completed["Parts"]] == list(range(1, 27))


def test_an_empty_file_is_one_empty_part() -> None:
    s3 = RecordingS3()
    done = s3writer.upload(s3, "b", "t/f.csv", iter(()), "text/csv")
    assert done.parts == 1 and s3.part_sizes == [0] and done.sha256 == hashlib.sha256().hexdigest()


def test_commit_false_aborts_after_streaming() -> None:
    s3 = RecordingS3()
    done = s3writer.upload(s3, "b", "t/f.csv", iter([b"a" * 10]), "text/csv", commit=lambda: False)
    assert not done.committed and s3.calls == ["create", "part", "abort"]


def test_a_failing_source_aborts() -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * (9 * MIB)
        raise RuntimeError("platform went away")

    s3 = RecordingS3()
    with pytest.raises(RuntimeError):
        s3writer.upload(s3, "b", "t/f.csv", broken(), "text/csv")
    assert s3.calls == ["create", "part", "abort"]


def test_part_size_below_the_s3_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        s3writer.upload(RecordingS3(), "b", "k", iter(()), "text/csv", part_size=MIB)
