"""Chart data as plain JSON for the page's script (console.js hands it to Plotly):
no figure is rendered to HTML on the server, so the page carries no inline script."""
from __future__ import annotations

from ivr.basics.kinds import OUTCOMES
from ivr.language.prompts import Catalog
from ivr.web.views.console.words import outcome_words

OUTCOME_COLOURS = {"released": "#2e7d32", "hazard": "#c62828", "transferred": "#1565c0",
                   "abandoned": "#9e9e9e", "goodbye": "#6a1b9a", "in_progress": "#f9a825"}


def outcomes(catalog: Catalog, by_day: dict[str, dict[str, int]]) -> dict:
    """Stacked bars: one trace per outcome that occurs, days on x."""
    days = list(by_day)
    traces = [{"type": "bar", "name": outcome_words(catalog, o), "x": days,
               "y": [by_day[d].get(o, 0) for d in days], "marker": {"color": OUTCOME_COLOURS[o]}}
              for o in OUTCOMES if any(o in counts for counts in by_day.values())]
    return {"data": traces, "layout": {"barmode": "stack", "xaxis": {"type": "category"},
                                       "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}}}


def funnel(branch: dict) -> dict:
    """One connector's funnel: calls reaching each step, in the flow's order."""
    steps = [s for s in branch["steps"] if s["reached"]]
    return {"data": [{"type": "funnel", "y": [s["label"] for s in steps], "x": [s["reached"] for s in steps],
                      "textinfo": "value+percent initial"}],
            "layout": {"height": max(300, 34 * len(steps) + 90),
                       "yaxis": {"automargin": True}}}
