"""The dashboard in a real browser: Voila serves notebooks on a loopback port and Debian's
chromium, driven by playwright, renders them; the static HTML is opened the same way.
Chromium or Voila missing is a failure (`make test` installs them), never a skip. Every wait
is for an explicit condition in the page, never for a delay."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

import flowschema  # noqa: F401  (registers df.flowschema)
from flowschema.datasets import Penguin, load_penguins
from tests.models import PEOPLE_ROWS, Person
from tests.processes import free_port
from tests.test_dashboard import EVIL_CELL, EVIL_COLUMN, Evil, Hostile, hostile_frame

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "test-output"
#: how long a server, a kernel or a run may take on a busy 2-core machine (a bound, not a delay)
PATIENCE_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def start_server(command: list[str], folder: Path, port: int, env: dict | None = None) -> subprocess.Popen:
    """Run ``command`` in ``folder`` and return once it accepts connections on ``port``."""
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    log = open(folder / f"server-{port}.log", "wb")  # noqa: SIM115 (the server writes it until it stops)
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + PATIENCE_MS / 1000
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, (folder / f"server-{port}.log").read_text()
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.2)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def write_notebook(path: Path, *sources: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def plain(text: str) -> str:
    """Text without the isolating marks around data strings in labels, and trimmed."""
    return text.replace("\u2068", "").replace("\u2069", "").strip()


def screenshot(page_or_locator, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page_or_locator.screenshot(path=str(OUTPUT / name))


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """One Voila on a loopback port serving a folder: a copy of the app, the app with a data
    set that cannot be loaded, and dashboards of hand-made frames. Yields the base URL."""
    folder = tmp_path_factory.mktemp("voila")
    shutil.copy(REPO / "notebooks" / "app.ipynb", folder / "app.ipynb")
    write_notebook(folder / "failing_app.ipynb",
                   "from flowschema.dashboard.app import App\nfrom flowschema.datasets import Penguin\n"
                   "def unreadable():\n    raise OSError('the disk <b>is</b> on fire')\n"
                   "App(datasets={'a data set that cannot be read': (unreadable, {'Penguin': Penguin})})")
    write_notebook(folder / "dashboards.ipynb",
                   "import pandas as pd, flowschema\nfrom tests.models import Person, PEOPLE_ROWS\n"
                   "checked = pd.DataFrame(PEOPLE_ROWS).flowschema.validate(Person)\nchecked.flowschema.dashboard()",
                   "from tests.test_dashboard import Evil, EVIL_CELL, EVIL_COLUMN\n"
                   "evil = pd.DataFrame({EVIL_COLUMN: [EVIL_CELL, 'ok'], 'size': [1, EVIL_CELL]})\n"
                   "evil.flowschema.validate(Evil).flowschema.dashboard()",
                   "from tests.test_dashboard import Hostile, hostile_frame\n"
                   "hostile_frame().flowschema.validate(Hostile).flowschema.dashboard()")
    port = free_port()
    server = start_server([sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                           f"--Voila.root_dir={folder}"], folder, port)
    yield f"http://127.0.0.1:{port}/voila/render/"
    stop_server(server)


def test_the_voila_app_validates_and_downloads_the_failing_rows(browser, voila):
    page = browser.new_page(viewport={"width": 1300, "height": 1400}, accept_downloads=True)
    page.goto(voila + "app.ipynb", timeout=PATIENCE_MS)
    page.wait_for_selector(".fs-validate", timeout=PATIENCE_MS)
    page.locator(".fs-validate").click()  # the first data set: palmerpenguins, model Penguin, sync
    page.wait_for_selector(".fs-grid-head .jupyter-button", timeout=PATIENCE_MS)  # the explorer: the run ended
    assert page.locator(".jupyter-widgets-error-widget").count() == 0
    dashboard = page.locator(".fs-dash .fs-dash").first
    header = dashboard.locator(".fs-header").inner_text()
    assert "11 · 3.2%" in header and "333 · 96.8%" in header
    assert "checked.flowschema" not in dashboard.inner_text()  # the app speaks of buttons, not code
    page.get_by_role("button", name="Save rows to CSV").click()
    link = page.locator("a.fs-download")
    link.wait_for(timeout=PATIENCE_MS)
    with page.expect_download() as download:
        link.click()
    saved = pd.read_csv(download.value.path(), index_col=0)
    expected = load_penguins().flowschema.validate(Penguin).flowschema.invalid_rows()
    assert download.value.suggested_filename == "flowschema_failing_rows.csv"
    assert saved.index.tolist() == expected.index.tolist() and list(saved.columns) == list(expected.columns)
    screenshot(page, "voila-app.png")
    page.close()


def test_the_voila_app_shows_a_failure_in_the_page(browser, voila):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(voila + "failing_app.ipynb", timeout=PATIENCE_MS)
    page.wait_for_selector(".fs-validate", timeout=PATIENCE_MS)
    page.locator(".fs-validate").click()
    failure = page.locator(".fs-app-status .fs-failure")
    failure.wait_for(timeout=PATIENCE_MS)
    assert failure.inner_text() == "✗ Validation failed: OSError: the disk <b>is</b> on fire"  # escaped, as text
    assert page.locator(".fs-validate").is_enabled()  # the app stays usable
    assert "Loading" not in page.locator(".fs-app-status").inner_text()
    screenshot(page, "voila-app-failure.png")
    page.close()


def test_the_dashboard_renders_in_voila_and_a_click_filters_the_grid(browser, voila):
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(voila + "dashboards.ipynb", timeout=PATIENCE_MS)
    page.wait_for_function("document.querySelectorAll('.fs-dash .fs-grid-head').length === 3", timeout=PATIENCE_MS)
    assert page.locator(".jupyter-widgets-error-widget").count() == 0
    first = page.locator(".fs-dash").first
    assert "4 · 80.0%" in first.locator(".fs-header").inner_text()
    first.locator(".fs-field-button", has_text="color").click()
    first.locator(".fs-caption", has_text="field color").wait_for(timeout=PATIENCE_MS)
    checked = pd.DataFrame(PEOPLE_ROWS).flowschema.validate(Person)
    errors = checked.flowschema.errors()
    expected = sorted(set(errors.loc[errors["field"] == "color", "row"]))
    rows = first.locator(".fs-grid-body tr")
    assert [int(text) for text in rows.locator("td:first-child").all_inner_texts()] == expected
    assert plain(first.locator(".fs-grid-head .jupyter-button").nth(2).inner_text()) == "color"  # its column first
    assert rows.locator("td:nth-child(3).fs-bad").count() == len(expected)
    evil = page.locator(".fs-dash").nth(1)
    assert EVIL_COLUMN in evil.inner_text() and EVIL_CELL in evil.inner_text()  # shown as text
    assert page.locator("img[src=x]").count() == 0 and not dialogs
    hostile = page.locator(".fs-dash").nth(2)
    assert hostile.locator("mjx-container, .MathJax").count() == 0  # MathJax left "$x^2$" alone
    assert "$x^2$" in hostile.inner_text()
    screenshot(page, "voila-dashboard.png")
    page.close()


def test_the_static_html_runs_nothing_requests_nothing_and_shows_its_disclosures(browser, tmp_path):
    frame = pd.DataFrame({EVIL_COLUMN: [EVIL_CELL, "ok"], "size": [1, EVIL_CELL]})
    path = tmp_path / "report.html"
    frame.flowschema.validate(Evil).flowschema.to_html(path)
    page = browser.new_page()
    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("networkidle")
    text = page.inner_text("body")
    assert EVIL_CELL in text and EVIL_COLUMN in text
    assert not dialogs and requests == [path.as_uri()]
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    summaries = page.locator("summary")
    assert summaries.count() == 2
    assert summaries.evaluate_all("nodes => nodes.map(node => getComputedStyle(node).display)") == ["list-item"] * 2
    screenshot(page, "static-report.png")
    page.close()


def test_a_hostile_frame_keeps_the_static_page_narrow_and_its_text_in_order(browser, tmp_path):
    path = tmp_path / "hostile.html"
    hostile_frame().flowschema.validate(Hostile).flowschema.to_html(path)
    assert path.stat().st_size < 200_000  # the million-character value is not in it, not even once
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") < 3_000
    cell = page.locator("td.fs-bad", has_text="…").first
    assert len(cell.inner_text()) <= 40 and cell.inner_text().endswith("…")
    assert reads_left_to_right(page, "td.fs-gc", "after")  # after "\u202ebad" in the errors cell: not reversed
    screenshot(page, "static-hostile.png")
    page.set_content("<p>\u202ebad, after</p>")  # the check itself: without isolation the text is reversed
    assert not reads_left_to_right(page, "p", "after")
    page.close()


def reads_left_to_right(page, selector: str, word: str) -> bool:
    """Whether ``word``, in the first element matching ``selector`` that holds it after a
    right-to-left override, is laid out left to right (its first letter left of its last)."""
    return page.evaluate("""([selector, word]) => {
      for (const element of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.textContent.indexOf(word);
          if (at < 0) continue;
          const box = offset => { const range = document.createRange(); range.setStart(node, offset);
                                  range.setEnd(node, offset + 1); return range.getBoundingClientRect(); };
          return box(at).left < box(at + word.length - 1).left;
        }
      }
      throw new Error(`no ${word} in ${selector}`);
    }""", [selector, word])


def test_chromium_is_debians():
    assert shutil.which("chromium") == CHROMIUM

