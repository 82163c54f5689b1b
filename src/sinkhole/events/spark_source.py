"""Spark reads the store's segments through pyarrow: a Python data source.

Spark's own Parquet reader opens ``s3a://`` paths through Hadoop's S3 connector
(hadoop-aws), which the pyspark package does not ship. This data source needs
none: the driver lists the segments (one snapshot, taken by
``sinkhole.events.store`` with the same rules as every DuckDB read: a segment
seen in two sources is read once), each segment is one partition, and the
executors open their segments with pyarrow's file systems: ``s3://bucket/prefix``
with pyarrow's S3 client, whose endpoint, region and credentials come from the
executors' own AWS environment variables and config files (as for
``sinkhole.events.sources``), a folder with the local file system. Batches go
to Spark as Arrow record batches in the store's schema (``events/schema.py``),
or the subset of its columns asked for.

:func:`dataframe` reads folders with Spark's own Parquet reader (faster than
going through Python, docs/scale.md) and object stores with this data source.

The data source classes are sent to the executors by value (cloudpickle), so an
executor needs pyspark and pyarrow but not sinkhole itself; for that they use
nothing of sinkhole at run time.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

if TYPE_CHECKING:
    from sinkhole.events.store import Snapshot

#: The name the data source is registered under in a Spark session.
NAME = "sinkhole_segments"
#: Rows per Arrow batch handed to Spark.
BATCH_ROWS = 65536


class SegmentReader(DataSourceReader):
    """Reads each segment on the executor that runs its partition."""

    def __init__(self, options: dict[str, str]) -> None:
        self.listed: list[list[str]] = json.loads(options["segments"])
        self.schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(options["schema"])))

    def partitions(self) -> Sequence[InputPartition]:
        """One partition per segment, as the driver listed them: (store, path), where the
        store is "" for files the executors see as folders, else an S3 URL."""
        return [InputPartition((store, path)) for store, path in self.listed]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """The segment's rows in the asked schema (a column the file lacks is null)."""
        store, path = partition.value
        if store:
            # resolved here, on the executor: its AWS environment, config files or role
            fs, _ = pafs.FileSystem.from_uri(store)
        else:
            fs = pafs.LocalFileSystem()
        data = pads.dataset([path], schema=self.schema, filesystem=fs, format="parquet")
        for batch in data.to_batches(columns=self.schema.names, batch_size=BATCH_ROWS):
            if batch.num_rows:
                yield batch


class SegmentSource(DataSource):
    """The store's closed segments, listed by the driver, read by the executors."""

    @classmethod
    def name(cls) -> str:
        """The format name Spark knows the source by."""
        return NAME

    def schema(self) -> Any:
        """The Spark schema of the asked Arrow schema."""
        from pyspark.sql.pandas.types import from_arrow_schema

        arrow = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.options["schema"])))
        return from_arrow_schema(arrow)

    def reader(self, schema: Any) -> SegmentReader:
        """A reader over the listed segments."""
        return SegmentReader(dict(self.options))


def listing(snap: Snapshot, folders: bool = True) -> list[tuple[str, str]]:
    """(store, path) of the segments of a snapshot, as the executors open them
    (`folders=False`: only those of shared stores in object storage)."""
    local = [("", str(path.absolute())) for path in snap.parquet] if folders else []
    shared = [
        (f"{part.source.scheme}://{part.source.base}", path)
        for part in snap.shared
        for path in part.paths
    ]
    return local + shared


def segment_frame(session: Any, segments: list[tuple[str, str]], columns: Sequence[str]) -> Any:
    """A Spark DataFrame over (store, path) segments, read through this data source."""
    from pyspark import cloudpickle

    from sinkhole.events.schema import SCHEMA

    # by value: the executors' Python need not have sinkhole installed
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # type: ignore[no-untyped-call]
    session.dataSource.register(SegmentSource)
    schema = pa.schema([SCHEMA.field(c) for c in columns])
    encoded = base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")
    return (
        session.read.format(NAME)
        .option("segments", json.dumps(segments))
        .option("schema", encoded)
        .load()
    )


def dataframe(session: Any, snap: Snapshot, columns: Sequence[str] | None = None) -> Any:
    """A Spark DataFrame over a snapshot's closed segments (`columns`: a subset, in order).

    Segments in folders go through Spark's own Parquet reader (measured faster than this
    data source: docs/scale.md), those in object stores through this data source.
    """
    from sinkhole.events.schema import SCHEMA

    names = list(SCHEMA.names if columns is None else columns)
    frames = []
    if snap.parquet:
        paths = [str(path.absolute()) for path in snap.parquet]
        frames.append(session.read.parquet(*paths).select(*names))
    shared = listing(snap, folders=False)
    if shared:
        frames.append(segment_frame(session, shared, names))
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other)
    return frame


#: The line of a Python traceback that names the error ("OSError: …").
_ERROR_LINE = re.compile(r"^\s*([\w.]+(Error|Exception|Exit)):\s*\S")


def failure(exc: BaseException) -> str | None:
    """What went wrong, in one line, when `exc` is Spark's (None for anything else).

    An executor's failure (a segment it could not open, S3 it could not reach)
    comes back as a long Java and Python trace; the Python error line is the news.
    """
    if not type(exc).__module__.startswith(("pyspark.", "py4j.")):
        return None
    lines = [line for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    chosen = errors[-1] if errors else (lines[0] if lines else type(exc).__name__)
    return " ".join(chosen.split())[:300]
