"""Frame kinds beyond pandas, each an adapter at the two ends of a run: its columns into chunks,
the verdicts into a result of its own kind (``flowschema.annotate.FrameKind``)."""
