"""The cars table (issue 15): per make, its models underneath, with the step that most
often freed the plug, in the operator's words.

Pure: the records' (make, model) rows in, the page's rows out, sorted worst first.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

MODELS_SHOWN = 10   # a make's most frequent models; the rest are summed into one row
# Each column's "worst first": most calls, lowest release rate, most hazards, most transfers.
SORTS = {"calls": True, "release_rate": False, "hazards": True, "transfers": True}
FIGURES = ("calls", "released", "hazards", "transfers")


def _rate(row: Mapping) -> float:
    return round(row["released"] / row["calls"], 3) if row["calls"] else 0.0


def _most_freed(freed_at: Mapping[str, int], label: Callable[[str], str]) -> dict | None:
    """The step that freed the most of these calls (ties: the label first in the alphabet)."""
    if not freed_at:
        return None
    node, n = min(freed_at.items(), key=lambda item: (-item[1], label(item[0])))
    return {"label": label(node), "calls": n}


def _summed(name: str | None, rows: Iterable[Mapping], label: Callable[[str], str]) -> dict:
    rows = list(rows)
    out: dict = {"name": name, **{k: sum(r[k] for r in rows) for k in FIGURES}}
    freed: dict[str, int] = {}
    for r in rows:
        for node, n in r["freed_at"].items():
            freed[node] = freed.get(node, 0) + n
    out["release_rate"] = _rate(out)
    out["freed"] = _most_freed(freed, label)
    return out


def makes(rows: Iterable[Mapping], label: Callable[[str], str], sort: str = "calls") -> list[dict]:
    """One row per make (its models under `models`, most calls first), in `sort`'s worst-first order."""
    by_make: dict[str, list[Mapping]] = {}
    for row in rows:
        by_make.setdefault(row["make"], []).append(row)
    out = []
    for make, group in by_make.items():
        entry = _summed(make, group, label)
        group = sorted(group, key=lambda r: (-r["calls"], r["model"] is None, r["model"] or ""))
        models = [_summed(r["model"], [r], label) for r in group[:MODELS_SHOWN]]
        if len(group) > MODELS_SHOWN:   # the last shown row becomes "N other models"
            rest = group[MODELS_SHOWN - 1:]
            models[-1] = {**_summed(None, rest, label), "others": len(rest)}
        entry["models"] = models
        out.append(entry)
    sort = sort if sort in SORTS else "calls"
    if sort == "release_rate":   # lowest rate first; among equals, the most calls
        out.sort(key=lambda r: (r["release_rate"], -r["calls"], r["name"]))
    else:                        # the most first; among equals, the lowest release rate
        out.sort(key=lambda r: (-r[sort], r["release_rate"], -r["calls"], r["name"]))
    return out
