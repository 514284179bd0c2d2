"""The dashboard in a real browser: Voila serves a notebook on a loopback port and Debian's
chromium, driven by playwright, renders it; the static HTML is opened the same way.
Chromium or Voila missing is a failure (`make test` installs them), never a skip."""

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

from tests.models import PEOPLE_ROWS, Person
from tests.test_dashboard import EVIL_CELL, EVIL_COLUMN, Evil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "test-output"


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_with_voila(notebook: str, folder: Path):
    """Start Voila on a free loopback port serving ``folder / notebook``; return (process, url)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen(
        [sys.executable, "-m", "voila", notebook, f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1"],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}/"
        except OSError:
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "Voila did not start within 60 s"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """Voila on a loopback port, serving a notebook that validates two frames and shows their dashboards."""
    folder = tmp_path_factory.mktemp("voila")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd, flowschema\n"
            "from tests.models import Person, PEOPLE_ROWS\n"
            "checked = pd.DataFrame(PEOPLE_ROWS).flowschema.validate(Person)\n"
            "checked.flowschema.dashboard()"
        ),
        nbformat.v4.new_code_cell(
            "from tests.test_dashboard import Evil, EVIL_CELL, EVIL_COLUMN\n"
            "evil = pd.DataFrame({EVIL_COLUMN: [EVIL_CELL, 'ok'], 'size': [1, EVIL_CELL]})\n"
            "evil.flowschema.validate(Evil).flowschema.dashboard()"
        ),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "dashboard.ipynb")
    server, url = serve_with_voila("dashboard.ipynb", folder)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_the_voila_app_validates_from_the_page(browser):
    server, url = serve_with_voila("app.ipynb", REPO / "notebooks")
    try:
        page = browser.new_page(viewport={"width": 1300, "height": 1200})
        page.goto(url, timeout=120_000)
        page.wait_for_selector(".fs-validate", timeout=120_000)
        assert page.locator(".fs-field-button").count() == 0
        page.locator(".fs-validate").click()  # the first data set: palmerpenguins, model Penguin, sync
        page.wait_for_selector(".fs-field-button", timeout=120_000)
        assert page.locator(".jupyter-widgets-error-widget").count() == 0
        assert "invalid 11 (3.2%)" in page.locator(".fs-dash").first.inner_text()
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "voila-app.png"), full_page=True)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_dashboard_renders_in_voila_and_a_click_filters_the_table(browser, voila):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(voila, timeout=120_000)
    page.wait_for_selector(".fs-field-button", timeout=120_000)
    assert page.locator(".jupyter-widgets-error-widget").count() == 0
    first = page.locator(".fs-dash").first
    assert "invalid 4 (80.0%)" in first.inner_text()
    first.locator(".fs-field-button", has_text="color").click()
    page.wait_for_function("document.querySelector('.fs-dash').innerText.includes('2 failing rows')",
                           timeout=30_000)
    checked = pd.DataFrame(PEOPLE_ROWS).flowschema.validate(Person)
    errors = checked.flowschema.errors()
    expected = sorted(set(errors.loc[errors["field"] == "color", "row"]))
    table = first.locator("table.fs-table tbody tr")
    assert [int(text) for text in table.locator("td:first-child").all_inner_texts()] == expected
    assert all("color:" in text for text in table.locator("td:last-child").all_inner_texts())
    evil = page.locator(".fs-dash").nth(1)
    assert EVIL_COLUMN in evil.inner_text() and EVIL_CELL in evil.inner_text()  # shown as text
    assert page.locator("img[src=x]").count() == 0 and not dialogs
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "voila-dashboard.png"), full_page=True)
    page.close()


def test_the_static_html_runs_nothing_and_requests_nothing(browser, tmp_path):
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
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "static-report.png"), full_page=True)
    page.close()


def test_chromium_is_debians():
    assert shutil.which("chromium") == CHROMIUM
