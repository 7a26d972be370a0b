"""The optional features and the packages they need, with one clear line when one is missing.

`pip install .` is the line itself (enough for `ivr call`); each extra adds a feature:
`dashboard` (plotly, 64 MB), `graph` (graphviz, for `ivr graph --format svg`),
`postgres` (psycopg, for a PostgreSQL DATABASE_URL). The Procfile's server (gunicorn,
gevent) is part of the line itself. Imports nothing from ivr, so any layer may use it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

#: extra -> (what it is for, the modules it brings)
EXTRAS = {
    "dashboard": ("the dashboard", ("plotly",)),
    "graph": ("`ivr graph --format svg`", ("graphviz",)),
    "postgres": ("a PostgreSQL DATABASE_URL", ("psycopg",)),
}


class MissingExtra(ImportError):
    """An optional feature was used without its packages; the message is one line to act on."""

    def __init__(self, extra: str):
        self.extra = extra
        what = EXTRAS[extra][0]
        super().__init__(f"{what} needs the optional '{extra}' packages: pip install 'ivr[{extra}]' "
                         f"(from a checkout: pip install '.[{extra}]')")


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, which the `extra` brings; MissingExtra if that extra is not installed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise missing(exc, extra) from None


def missing(exc: ModuleNotFoundError, extra: str) -> MissingExtra:
    """The MissingExtra for an import that failed, if the module missing is one the extra
    brings; any other missing module is a real error and is raised as it was."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS[extra][1]:
        raise exc
    return MissingExtra(extra)


def installed(extra: str) -> bool:
    """Are the extra's packages importable?"""
    try:
        for module in EXTRAS[extra][1]:
            require(module, extra)
    except MissingExtra:
        return False
    return True
