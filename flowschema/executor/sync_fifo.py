"""``SyncFifoExecutor``: validates chunks one after another in this process, first in first out.

The simplest executor and the reference every other one must agree with: no start-up, no
serialisation, exceptions and breakpoints land right in the caller's process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flowschema.executor.base import BaseExecutor, Chunk
from flowschema.validation import ChunkResult, ValidationOptions, validate_chunk

__all__ = ["IN_PROCESS_CHUNKSIZE", "SyncFifoExecutor"]

#: rows per chunk on the columnar engine in this process: a chunk's columns are screened and
#: deduplicated side by side in threads, which a big chunk keeps busy (a million flights rows are
#: about a tenth of a second of work, so progress bars still move)
IN_PROCESS_CHUNKSIZE = 1_000_000


class SyncFifoExecutor(BaseExecutor):
    """Validate in this process, one chunk at a time, in order.

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> executor = SyncFifoExecutor(Point)
    >>> next(executor.run([{"x": "7"}]))["validated_data"]
    {'x': 7}
    """

    name = "sync"

    def chunksize_for(self, rows: int, columnar: bool = False) -> int:
        return self.chunksize or (IN_PROCESS_CHUNKSIZE if columnar else self.default_chunksize)

    def map_chunks(self, chunks: Iterable[Chunk], options: ValidationOptions) -> Iterator[ChunkResult]:
        model = self.schema_model
        for chunk in chunks:
            yield validate_chunk(model, chunk, options)
