"""The tqdm progress bar: counted in rows, shown from PROGRESS_THRESHOLD rows with "auto"."""

from __future__ import annotations

import pandas as pd
import pytest

import flowschema
from tests.models import Address


@pytest.mark.parametrize("rows, progress, shown", [(10, True, True), (10, "auto", False), (10, False, False),
                                                   (flowschema.PROGRESS_THRESHOLD, "auto", True),
                                                   (flowschema.PROGRESS_THRESHOLD, False, False)])
def test_progress_bar_shown_as_asked(capsys, rows, progress, shown):
    frame = pd.DataFrame({"city": ["x"] * rows, "zip": ["12345"] * rows})
    frame.flowschema.validate(Address, progress=progress)
    err = capsys.readouterr().err
    assert ("validating Address" in err) == shown
    if shown:
        assert "rows" in err and "100%" in err
