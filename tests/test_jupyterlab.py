"""The dashboard in JupyterLab, in Debian's chromium: both themes with computed contrast (and
screenshots in test-output/), clicking through the per-field table, error types, the reset,
paging, sorting, hostile values, and a live run read while it runs. JupyterLab runs on a
loopback port with its own settings folder; every wait is for a condition in the page."""

from __future__ import annotations

import json
import sys

import pytest

from tests import test_browser
from tests.processes import free_port
from tests.test_browser import (
    PATIENCE_MS,
    plain,
    reads_left_to_right,
    screenshot,
    start_server,
    stop_server,
    write_notebook,
)

browser = test_browser.browser  # the same chromium fixture

PENGUINS = """\
import flowschema
from typing import Literal, Optional
from pydantic import BaseModel, Field
from flowschema.datasets import load_penguins

class Penguin(BaseModel):
    species: Literal["Adelie", "Chinstrap", "Gentoo"]
    island: Literal["Biscoe", "Dream", "Torgersen"]
    bill_length_mm: float = Field(gt=0)
    bill_depth_mm: float = Field(gt=0)
    flipper_length_mm: int = Field(gt=150, lt=250)
    body_mass_g: Optional[int] = Field(default=None, gt=0)
    sex: Literal["male", "female"]
    year: int = Field(ge=2007, le=2009)

load_penguins().flowschema.validate(Penguin).flowschema.dashboard()"""

MANY = """\
from tests.test_dashboard import MANY, Row
MANY.flowschema.validate(Row).flowschema.dashboard()"""

HOSTILE = """\
from tests.test_dashboard import Hostile, hostile_frame
hostile_frame().flowschema.validate(Hostile).flowschema.dashboard()"""

#: a run that stops at row 41 (after 4 chunks of 10) until the test has read the live header
LIVE = """\
import os, time
import pandas as pd, flowschema
from pydantic import BaseModel, Field, field_validator

class Slow(BaseModel):
    n: int = Field(ge=0)

    @field_validator("n")
    @classmethod
    def wait_at_41(cls, value):
        deadline = time.monotonic() + 120
        while value == 41 and not os.path.exists({flag!r}) and time.monotonic() < deadline:
            time.sleep(0.02)
        return value

frame = pd.DataFrame({{"n": [-1 if number % 4 == 0 else number for number in range(60)]}})
checked = frame.flowschema.validate(Slow, chunksize=10, dashboard=True)"""

#: WCAG contrast of every visible text of the dashboards (not of disabled controls), and of the
#: bars, dots and card edges against what is behind them; semi-transparent colours composited
CONTRAST = """() => {
  const parse = text => { const parts = text.match(/[\\d.]+/g).map(Number);
                          return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1}; };
  const blend = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
                                   b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const behind = element => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color.a > 0) { layers.push(color); if (color.a >= 1) break; }
    }
    return layers.reverse().reduce((below, layer) => blend(layer, below), {r: 255, g: 255, b: 255, a: 1});
  };
  const linear = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = c => 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
  const ratio = (x, y) => { const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
                            return (a + 0.05) / (b + 0.05); };
  const visible = element => { const box = element.getBoundingClientRect(); return box.width > 0 && box.height > 0; };
  const name = element => element.tagName.toLowerCase() + '.' + Array.from(element.classList).join('.');
  const texts = [], graphics = [];
  for (const element of document.querySelectorAll('.fs-dash *')) {
    if (!visible(element) || element.closest('[disabled], style')) continue;
    const own = Array.from(element.childNodes).some(node => node.nodeType === 3 && node.textContent.trim());
    if (!own && element.tagName !== 'SELECT') continue;
    const background = behind(element);
    texts.push({element: name(element), text: element.textContent.trim().slice(0, 40),
                bad: !!element.closest('.fs-bad'),
                ratio: ratio(blend(parse(getComputedStyle(element).color), background), background)});
  }
  for (const element of document.querySelectorAll('.fs-dash .fs-bar-fill, .fs-dash .fs-dot')) {
    if (!visible(element)) continue;
    const color = parse(getComputedStyle(element).backgroundColor);
    graphics.push({element: name(element), ratio: ratio(color, behind(element.parentElement))});
  }
  for (const element of document.querySelectorAll('.fs-dash .fs-card-valid, .fs-dash .fs-card-invalid')) {
    const color = parse(getComputedStyle(element).borderLeftColor);
    graphics.push({element: name(element), ratio: ratio(color, behind(element))});
  }
  return {texts, graphics};
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a loopback port over a folder of test notebooks; its own settings, no news,
    no extension manager (nothing fetched). Yields (base URL, folder)."""
    folder = tmp_path_factory.mktemp("lab")
    for plugin, settings in {"apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
                             "notebook-extension/tracker": {"windowingMode": "none"}}.items():  # every cell drawn
        path = folder / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    write_notebook(folder / "explore.ipynb", PENGUINS, MANY, HOSTILE)
    write_notebook(folder / "live.ipynb", LIVE.format(flag=str(folder / "go-on")))
    port = free_port()
    server = start_server(
        [sys.executable, "-m", "jupyterlab",
         "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
         "--ServerApp.password=", "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
         f"--LabApp.user_settings_dir={folder / 'settings'}", f"--LabApp.workspaces_dir={folder / 'workspaces'}",
         f"--ServerApp.root_dir={folder}"],
        folder, port,
        env={"JUPYTER_RUNTIME_DIR": str(folder / "runtime"), "JUPYTER_CONFIG_DIR": str(folder / "config")})
    yield f"http://127.0.0.1:{port}/lab/tree/", folder
    stop_server(server)


def run_notebook(browser, url: str, height: int = 1400):
    """Open a notebook in JupyterLab, wait for its kernel, run every cell; return the page."""
    page = browser.new_page(viewport={"width": 1400, "height": height}, accept_downloads=True)
    page.goto(url + "?reset", timeout=PATIENCE_MS)  # this notebook alone, not the workspace's others
    page.wait_for_function("""() => { const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        const kernel = panel?.sessionContext?.session?.kernel;
        return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'; }""", timeout=PATIENCE_MS)
    page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # not awaited
    return page


@pytest.fixture(scope="module")
def explore(browser, lab):
    """The explore notebook, run: the penguins, paging and hostile dashboards, in this order."""
    page = run_notebook(browser, lab[0] + "explore.ipynb")
    page.wait_for_function("document.querySelectorAll('.fs-dash .fs-grid-head').length === 3 && "
                           "document.querySelectorAll('.fs-dash .fs-grid-head .jupyter-button').length === 20",
                           timeout=PATIENCE_MS)
    yield page
    page.close()


def dashboard(page, number: int):
    return page.locator(".jp-OutputArea-output .fs-dash").nth(number)


def wait_for_caption(board, text: str) -> None:
    board.locator(".fs-caption", has_text=text).first.wait_for(timeout=PATIENCE_MS)


def grid_labels(board) -> list[str]:
    return board.locator(".fs-grid-body tr td:first-child").all_inner_texts()


def head(board, title: str):
    """The grid's header button of the column ``title``."""
    titles = [plain(text).rstrip(" ▲▼") for text in board.locator(".fs-grid-head .jupyter-button").all_inner_texts()]
    return board.locator(".fs-grid-head .jupyter-button").nth(titles.index(title))


def set_theme(page, theme: str, light: bool) -> None:
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    page.wait_for_function(f"document.body.dataset.jpThemeLight === '{str(light).lower()}' && "
                           f"document.body.dataset.jpThemeName === '{theme}'", timeout=PATIENCE_MS)


@pytest.mark.parametrize("theme, light, name",
                         [("JupyterLab Light", True, "light"), ("JupyterLab Dark", False, "dark")])
def test_both_themes_are_readable(explore, theme, light, name):
    set_theme(explore, theme, light)
    penguins = dashboard(explore, 0)
    penguins.locator(".fs-field-button", has_text="sex").click()  # a selected row is checked too
    wait_for_caption(penguins, "field sex")
    report = explore.evaluate(CONTRAST)
    poor_text = [item for item in report["texts"] if item["ratio"] < 4.5]
    poor_graphics = [item for item in report["graphics"] if item["ratio"] < 3]
    assert len(report["texts"]) > 300 and len(report["graphics"]) > 20
    assert not poor_text, poor_text
    assert not poor_graphics, poor_graphics
    assert sum(item["bad"] for item in report["texts"]) > 20  # failing cells checked
    penguins.scroll_into_view_if_needed()
    screenshot(explore, f"jupyterlab-{name}.png")
    screenshot(dashboard(explore, 2), f"jupyterlab-{name}-hostile.png")
    penguins.locator(".jupyter-button", has_text="All fields").click()
    wait_for_caption(penguins, "11 failing rows · page")


def test_a_field_an_error_type_across_fields_and_the_reset(explore):
    penguins = dashboard(explore, 0)
    penguins.locator(".fs-field-button", has_text="sex").click()
    wait_for_caption(penguins, "field sex")
    assert plain(penguins.locator(".fs-field-row.fs-selected").inner_text()).startswith("sex")
    assert plain(penguins.locator(".fs-grid-head .jupyter-button").nth(2).inner_text()) == "sex"
    assert penguins.locator(".fs-grid-body tr").count() == 11
    assert penguins.locator(".fs-grid-body td:nth-child(3).fs-bad").count() == 11
    penguins.locator(".jupyter-button", has_text="All fields").click()
    wait_for_caption(penguins, "11 failing rows · page")
    penguins.locator("select").select_option(label="\u2068float_type\u2069 · 2 rows")  # before any field
    wait_for_caption(penguins, "type float_type")
    heads = penguins.locator(".fs-grid-head .jupyter-button").all_inner_texts()
    assert [plain(text) for text in heads[2:4]] == ["bill_length_mm", "bill_depth_mm"]
    assert grid_labels(penguins) == ["3", "271"]
    penguins.locator(".jupyter-button", has_text="All fields").click()
    wait_for_caption(penguins, "11 failing rows · page")
    assert penguins.locator("select").input_value() == penguins.locator("select option").first.get_attribute("value")


def test_paging_and_sorting(explore):
    many = dashboard(explore, 1)
    wait_for_caption(many, "45 failing rows · page 1 of 3")
    many.get_by_role("button", name="next ▶").click()
    wait_for_caption(many, "page 2 of 3")
    assert grid_labels(many) == [str(number) for number in range(20, 40)]
    head(many, "m").click()  # sorted by m: back to page 1
    wait_for_caption(many, "sorted by m, ascending · page 1 of 3")
    assert plain(head(many, "m").inner_text()) == "m ▲"
    assert grid_labels(many)[:3] == ["0", "1", "2"]  # m = 1 first (stable: in row order)
    head(many, "m").click()
    wait_for_caption(many, "sorted by m, descending")
    assert grid_labels(many)[0] == "15"  # m = 500 first
    heads = many.locator(".fs-grid-head .jupyter-button").evaluate_all(
        "nodes => nodes.map(node => [node.getBoundingClientRect().left, node.getBoundingClientRect().width])")
    cells = many.locator(".fs-grid-body tr:first-child td").evaluate_all(
        "nodes => nodes.map(node => [node.getBoundingClientRect().left, node.getBoundingClientRect().width])")
    assert all(abs(a - b) < 1.5 and abs(c - d) < 1.5 for (a, c), (b, d) in zip(heads, cells))  # aligned
    assert many.locator(".fs-grid-body td").evaluate_all(  # one line each: nothing wraps mid-word
        "nodes => nodes.every(node => node.getBoundingClientRect().height < 30)")


def test_a_million_characters_an_rtl_column_name_and_mathjax_bait(explore):
    hostile = dashboard(explore, 2)
    hostile.scroll_into_view_if_needed()
    assert explore.evaluate("document.querySelector('.jp-NotebookPanel').scrollWidth") < 3_000
    cut = hostile.locator("td.fs-bad", has_text="…").first
    assert len(cut.inner_text()) <= 40
    assert hostile.locator("mjx-container, .MathJax").count() == 0 and "$x^2$" in hostile.inner_text()
    assert reads_left_to_right(explore, ".fs-dash td.fs-gc", "huge")  # after the override, in the errors cell
    hostile.locator(".fs-field-button").first.click()  # the field read from the column "\u202ebad"
    wait_for_caption(hostile, "· page 1 of 1")
    assert reads_left_to_right(explore, ".fs-dash .fs-caption", "page")


def test_a_live_run_shows_rows_done_valid_and_invalid_while_it_runs(browser, lab):
    url, folder = lab
    page = run_notebook(browser, url + "live.ipynb", height=1000)
    try:
        board = page.locator(".jp-OutputArea-output .fs-dash").first
        board.locator(".fs-header", has_text="40 of 60").wait_for(timeout=PATIENCE_MS)
        header = board.locator(".fs-header").inner_text()
        assert "Validating: 40 of 60 rows (66.7%)" in header
        cards = board.locator(".fs-card").all_inner_texts()
        assert [card.split("\n")[-1] for card in cards] == ["40 of 60", "30 · 75.0%", "10 · 25.0%"]
        assert board.locator("input[type=text]").is_disabled()
        assert board.get_by_role("button", name="Save rows to CSV").is_disabled()
        screenshot(page, "jupyterlab-live.png")
        (folder / "go-on").touch()
        final = page.locator(".jp-OutputArea-output .fs-dash", has=page.locator(".fs-grid-head .jupyter-button"))
        final.locator(".fs-card", has_text="45 · 75.0%").wait_for(timeout=PATIENCE_MS)  # the explorer: visible
        assert [card.split("\n")[-1] for card in final.locator(".fs-card").all_inner_texts()][:3] == [
            "60", "45 · 75.0%", "15 · 25.0%"]
        assert final.locator("input[type=text]").is_enabled()
    finally:
        page.close()
