"""Files kept under the data directory (web chat uploads, email attachments, agents' files).

A file is written whole — to a `.part` file, fsynced, then renamed into place — before the
row that names it is committed, and removed again when that commit does not happen
(`undo_on_error`). Receiving a file over HTTP (raw body, size limit, content type) is here
too, so every upload endpoint answers the same 413 / 415 / 422 naming the field.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from omnidesk.errors import InvalidInput, OmnideskError

CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
UNSAFE_NAME = re.compile(r"[^\w.()@+=,' -]+")


class TooLarge(OmnideskError):
    """The file is bigger than the endpoint allows."""

    status_code = 413
    code = "too_large"


class UnsupportedType(OmnideskError):
    """The endpoint does not accept this content type."""

    status_code = 415
    code = "unsupported_type"


@dataclass(frozen=True, slots=True)
class Written:
    """What was stored: size in bytes and SHA-256 (hex) of the content."""

    size: int
    sha256: str


def write_file(path: Path, chunks: Iterable[bytes]) -> Written:
    """Write, fsync, then rename into place: a stored file is complete (blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    digest, size = hashlib.sha256(), 0
    with partial.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return Written(size=size, sha256=digest.hexdigest())


async def save(path: Path, chunks: Iterable[bytes]) -> Written:
    """`write_file` off the event loop."""
    return await asyncio.to_thread(write_file, path, list(chunks))


def remove(paths: Iterable[Path]) -> None:
    """Remove files that may or may not exist (never raises for a missing one)."""
    for path in paths:
        path.unlink(missing_ok=True)
        path.with_suffix(".part").unlink(missing_ok=True)


@dataclass
class FileBatch:
    """The files written for one database transaction."""

    paths: list[Path] = field(default_factory=list)

    async def save(self, path: Path, chunks: Iterable[bytes]) -> Written:
        """Store one file, remembered for removal if the transaction fails."""
        self.paths.append(path)
        return await save(path, chunks)


@contextmanager
def undo_on_error() -> Iterator[FileBatch]:
    """A batch whose files are removed again when the block (its commit included) raises."""
    batch = FileBatch()
    try:
        yield batch
    except BaseException:
        remove(batch.paths)
        raise


def display_filename(name: str | None, *, default: str = "file") -> str:
    """A file name safe to store, show and send: no directories, no control characters, any
    script's letters kept (at most 200 characters)."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = UNSAFE_NAME.sub("_", base).strip(" ._")
    return cleaned[:200] or default


def content_type_of(request: Request) -> str:
    """The request's media type, lower-cased without parameters ("" when absent)."""
    return (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str) -> str:
    """A well-formed single-part media type (415 naming content_type otherwise)."""
    if not CONTENT_TYPE.match(content_type) or content_type.startswith("multipart/"):
        raise UnsupportedType(f"send the file as the raw body with its own Content-Type, not "
                              f"{content_type or '(none)'!r}", field="content_type")
    return content_type


async def read_limited(request: Request, limit: int, *, where: str) -> list[bytes]:
    """The raw body, refused with 413 (field `file`) past `limit` bytes, 422 when empty."""
    message = f"the file is larger than the {limit} bytes {where} accepts"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(message, field="file")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(message, field="file")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("the file is empty", field="file")
    return chunks
