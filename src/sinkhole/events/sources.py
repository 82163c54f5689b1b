"""Where events are read from: local store folders and shared stores given as URLs.

A local store is a folder (``events/``, ``wal/``, ``stats/``, ``quarantine/``)
as `sinkhole serve` writes it; a folder on a shared file system that sensors
ship into is read the same way. A shared store in an object store is a URL,
``s3://bucket/prefix``, opened through pyarrow's file systems: the endpoint,
region and credentials come from the standard AWS environment variables
(``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` …) and
config files, as for any AWS SDK client. It holds only closed Parquet segments,
in the same layout: ``<prefix>/events/day=YYYY-MM-DD/<segment>.parquet``.

Several sources read together give the events of one merged store. A segment
keeps its name everywhere it is copied (the shipped copy of a local segment has
the local one's day and name), so a segment seen in several sources is taken
once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from sinkhole.events.writer import EVENTS_DIR
from sinkhole.exceptions import SinkholeError

#: URL schemes read through pyarrow's file systems (a plain path or file:// is a folder).
SCHEMES = ("s3",)


class SourceError(SinkholeError):
    """An event store location is not usable."""


@dataclass(frozen=True)
class Source:
    """One place events are read from: a local store folder, or a shared store by URL."""

    text: str
    #: The folder of a local store (None for an object store).
    folder: Path | None = None
    #: An object store's scheme, bucket and prefix, e.g. ("s3", "bucket/prefix").
    scheme: str = ""
    base: str = ""

    @property
    def local(self) -> bool:
        """Whether this is a folder on this machine (with a WAL, stats and a quarantine)."""
        return self.folder is not None

    def filesystem(self) -> pafs.FileSystem:
        """The pyarrow file system of an object store (resolved now: credentials may rotate)."""
        if self.folder is not None:
            return pafs.LocalFileSystem()
        try:
            fs, _ = pafs.FileSystem.from_uri(f"{self.scheme}://{self.base}")
        except (OSError, ValueError) as exc:
            raise SourceError(f"{self.text}: {_one_line(exc)}") from None
        return fs

    def events_path(self) -> str:
        """Where the day folders are, in this source's file system."""
        if self.folder is not None:
            return str(self.folder / EVENTS_DIR)
        return f"{self.base}/{EVENTS_DIR}"

    def __str__(self) -> str:
        return self.text


def parse(value: str | Path) -> Source:
    """A source from a folder path, a file:// URL or an object-store URL (SourceError if not)."""
    if isinstance(value, Path):
        return Source(str(value), folder=value)
    text = value.strip()
    if not text:
        raise SourceError("an empty event store location: expected a folder or s3://bucket/prefix")
    parts = urlsplit(text)
    if len(parts.scheme) <= 1:  # no scheme (or a Windows drive letter): a folder
        return Source(text, folder=Path(text))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise SourceError(f"{text}: a file:// URL names a folder on this machine")
        return Source(text, folder=Path(parts.path))
    if parts.scheme not in SCHEMES:
        raise SourceError(
            f"{text}: unsupported scheme {parts.scheme!r}; expected a folder, "
            "file:///folder or s3://bucket/prefix"
        )
    if parts.query or parts.fragment:
        raise SourceError(
            f"{text}: no options in the URL; the endpoint, region and credentials come from "
            "the AWS environment variables and config files"
        )
    bucket = parts.netloc
    prefix = parts.path.strip("/")
    if not bucket:
        raise SourceError(f"{text}: expected s3://bucket/prefix (no bucket given)")
    return Source(text, scheme=parts.scheme, base=f"{bucket}/{prefix}" if prefix else bucket)


Location = Path | str | Sequence[Path | str]


@dataclass(frozen=True)
class Stores:
    """Several sources read as one store."""

    sources: tuple[Source, ...]

    @property
    def folders(self) -> list[Path]:
        """The local store folders among the sources."""
        return [s.folder for s in self.sources if s.folder is not None]

    def __str__(self) -> str:
        return ", ".join(s.text for s in self.sources)


def stores(location: Location | Stores) -> Stores:
    """The sources a location names: one folder or URL, or a sequence of them."""
    if isinstance(location, Stores):
        return location
    given: list[Path | str] = [location] if isinstance(location, (str, Path)) else list(location)
    if not given:
        raise SourceError("no event store given")
    parsed: list[Source] = []
    for item in given:
        source = parse(item)
        if source not in parsed:
            parsed.append(source)
    return Stores(tuple(parsed))


def single_folder(location: Location | Stores) -> Path | None:
    """The folder when the location is exactly one local store, else None."""
    found = stores(location)
    if len(found.sources) == 1 and found.sources[0].folder is not None:
        return found.sources[0].folder
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def aws_environment() -> dict[str, Any]:
    """The AWS settings visible in the environment (names only for secrets), for messages."""
    keys = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION")
    return {k: os.environ[k] for k in keys if k in os.environ}
