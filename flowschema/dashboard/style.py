"""The dashboard's look: one set of CSS declarations per class, JupyterLab's theme variables
first (so light and dark themes both read well), fallbacks for other front ends.

The widget gets the declarations as one style sheet (``STYLE``); static HTML (the report file,
a notebook's fallback where widgets cannot run) gets them inline, element by element, because
GitHub and untrusted notebooks drop ``<style>`` blocks. ``Look`` writes the attributes either way.
"""

from __future__ import annotations

import html

__all__ = ["CLASSES", "STYLE", "Look"]

FG = "var(--jp-content-font-color1, #1f1f1f)"
MUTED = "var(--jp-content-font-color2, #5f5f5f)"
BORDER = "var(--jp-border-color2, #e0e0e0)"
BORDER_STRONG = "var(--jp-border-color1, #9e9e9e)"
HEAD_BG = "var(--jp-layout-color2, #eeeeee)"
FAIL = "var(--jp-error-color1, #d32f2f)"
PASS = "var(--jp-success-color1, #388e3c)"
#: a failing cell: JupyterLab's own error background (pale red in light, dark red in dark themes)
BAD_BG = "var(--jp-rendermime-error-background, #ffdddd)"
NUMBERS = "font-variant-numeric: tabular-nums; text-align: right;"
ONE_LINE = "white-space: nowrap; overflow: hidden; text-overflow: ellipsis;"

#: class -> declarations
CLASSES = {
    "fs-dash": f"font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: {FG}; "
               "line-height: 1.45;",
    "fs-title": "font-size: 1.25em; font-weight: 600; margin: 2px 0 6px 0;",
    "fs-cards": "display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0;",
    "fs-card": f"border: 1px solid {BORDER_STRONG}; border-left-width: 5px; border-radius: 4px; padding: 3px 12px; "
               "min-width: 6em;",
    "fs-card-valid": f"border-left-color: {PASS};",
    "fs-card-invalid": f"border-left-color: {FAIL};",
    "fs-card-label": f"font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.04em; color: {MUTED};",
    "fs-card-value": "font-size: 1.3em; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap;",
    "fs-details": f"color: {MUTED}; margin: 4px 0;",
    "fs-state": "font-weight: 600; margin: 4px 0;",
    "fs-note": f"border-left: 3px solid {BORDER_STRONG}; padding: 2px 8px; margin: 6px 0;",
    "fs-failure": f"background: {BAD_BG}; border-left: 4px solid {FAIL}; padding: 4px 8px; margin: 6px 0;",
    "fs-h": "font-size: 1.05em; font-weight: 600; margin: 14px 0 4px 0;",
    "fs-table": "border-collapse: collapse; font-size: 12px;",
    "fs-th": f"text-align: left; padding: 3px 8px; border-bottom: 2px solid {BORDER_STRONG}; background: {HEAD_BG}; "
             f"font-weight: 600; {ONE_LINE}",
    "fs-td": f"padding: 3px 8px; border-bottom: 1px solid {BORDER}; max-width: 22em; {ONE_LINE}",
    "fs-cell": f"display: inline-block; box-sizing: border-box; padding: 0 8px; vertical-align: middle; {ONE_LINE}",
    "fs-num": NUMBERS,
    "fs-field-name": "font-weight: 600;",
    "fs-dot": "display: inline-block; width: 0.7em; height: 0.7em; border-radius: 50%; margin-right: 0.4em;",
    "fs-dot-pass": f"background: {PASS};",
    "fs-dot-fail": f"background: {FAIL};",
    "fs-bar": f"display: inline-block; box-sizing: border-box; width: 64px; height: 10px; border: 1px solid "
              f"{BORDER_STRONG}; vertical-align: middle;",
    "fs-bar-fill": f"display: block; height: 100%; background: {FAIL};",
    "fs-grid": "border-collapse: separate; border-spacing: 0; table-layout: fixed; font-size: 12px;",
    "fs-gh": f"box-sizing: border-box; height: 26px; padding: 0 8px; text-align: left; font-weight: 600; "
             f"background: {HEAD_BG}; border-bottom: 2px solid {BORDER_STRONG}; {ONE_LINE}",
    "fs-gc": f"box-sizing: border-box; height: 25px; padding: 0 8px; border-bottom: 1px solid {BORDER}; {ONE_LINE}",
    "fs-bad": f"background: {BAD_BG}; box-shadow: inset 3px 0 0 {FAIL};",
    "fs-missing": f"font-style: italic; color: {MUTED};",
    "fs-caption": f"color: {MUTED}; margin: 4px 0;",
    "fs-summary": "display: list-item; cursor: pointer; margin: 2px 0;",
    "fs-muted": f"color: {MUTED};",
}

#: leaner declarations where static HTML needs less (cells already cut in Python, no header
#: buttons to align with): each grid cell carries its style inline, so every byte counts
_INLINE = {
    "fs-grid": "border-collapse: collapse; font-size: 12px; white-space: nowrap;",
    "fs-gh": f"padding: 3px 8px; text-align: left; background: {HEAD_BG}; border-bottom: 2px solid {BORDER_STRONG};",
    "fs-gc": f"padding: 2px 8px; border-bottom: 1px solid {BORDER};",
    "fs-td": f"padding: 3px 8px; border-bottom: 1px solid {BORDER}; white-space: nowrap;",
    "fs-bad": f"background: {BAD_BG}; border-left: 3px solid {FAIL};",
}

#: what only the widget needs: its ipywidgets parts (buttons, boxes) and a few states
_WIDGET_CSS = f"""
.fs-dash .fs-bad .fs-missing {{ color: inherit; }}
.fs-dash .fs-scroll {{ overflow-x: auto; max-width: 100%; }}
.fs-dash .fs-fixed {{ flex: 0 0 auto; width: max-content; }}
.fs-dash .fs-field-row {{ border-bottom: 1px solid {BORDER}; align-items: center; width: max-content; }}
.fs-dash .fs-field-row.fs-selected {{ background: var(--jp-rendermime-table-row-hover-background, #e1f5fe);
  box-shadow: inset 4px 0 0 var(--jp-brand-color1, #1976d2); }}
.fs-dash .fs-field-row .widget-html, .fs-dash .fs-field-head .widget-html {{ margin: 0; }}
.fs-dash .fs-field-head {{ border-bottom: 2px solid {BORDER_STRONG}; background: {HEAD_BG}; font-weight: 600;
  font-size: 12px; width: max-content; }}
.fs-dash .fs-field-button {{ margin: 1px 0; text-align: left; font-weight: 600; unicode-bidi: isolate; }}
.fs-dash .fs-grid-head {{ width: max-content; }}
.fs-dash .fs-grid-head .jupyter-button {{ margin: 0; border-radius: 0; box-shadow: none; {CLASSES["fs-gh"]}
  font-size: 12px; unicode-bidi: isolate; color: var(--jp-ui-font-color1, #1f1f1f); }}
.fs-dash .fs-grid-head .jupyter-button:hover {{ background: var(--jp-layout-color3, #bdbdbd); }}
.fs-dash .fs-grid-body {{ margin: 0; }}
.fs-dash .widget-html-content {{ line-height: 1.45; }}
.fs-dash select, .fs-dash .widget-dropdown option {{ unicode-bidi: isolate; }}
.fs-dash a.fs-download {{ color: var(--jp-content-link-color, #0d47a1); font-weight: 600; }}
"""

STYLE = "\n".join(f".fs-dash .{name}, .fs-dash.{name} {{ {declarations} }}" for name, declarations in CLASSES.items()) \
    + _WIDGET_CSS


class Look:
    """Writes the class and style attributes of an element: classes only (the widget, with
    ``STYLE`` loaded) or classes with their declarations inline (static HTML).

    >>> Look(inline=False)("fs-num")
    ' class="fs-num"'
    >>> Look(inline=True)("fs-num", style="width: 80px;")
    ' class="fs-num" style="font-variant-numeric: tabular-nums; text-align: right; width: 80px;"'
    """

    def __init__(self, inline: bool) -> None:
        self.inline = inline

    def __call__(self, *names: str, style: str = "") -> str:
        declarations = " ".join([*(_INLINE.get(name, CLASSES.get(name, "")) for name in names), style]).strip() \
            if self.inline else style
        classes = f' class="{" ".join(names)}"' if names else ""
        return classes + (f' style="{html.escape(declarations)}"' if declarations else "")
