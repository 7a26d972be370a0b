"""Optional features without their extra: one clear line naming the pip command.

The packages are made to fail to import (None in sys.modules), as on a host that
installed only `pip install .`.
"""
from __future__ import annotations

import logging
import sys

import pytest
from click.testing import CliRunner
from conftest import ROOT

import ivr.web.views
from ivr import extras
from ivr.app import create_app
from ivr.config import ConfigError
from ivr.tools.cli import main


def without(monkeypatch, *modules: str) -> None:
    """Importing any of `modules` (or a submodule already imported) fails, as if not installed."""
    for name in [m for m in sys.modules if m.split(".")[0] in modules] + list(modules):
        monkeypatch.setitem(sys.modules, name, None)


def test_the_dashboard_without_plotly_says_which_extra(monkeypatch, env, caplog):
    without(monkeypatch, "plotly")
    monkeypatch.delitem(sys.modules, "ivr.web.views.dashboard", raising=False)
    monkeypatch.delattr(ivr.web.views, "dashboard", raising=False)
    with caplog.at_level(logging.ERROR, logger="ivr"):
        app = create_app({**env, "IVR_DASHBOARD_PASSWORD": "secret"})
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["IVR_DASHBOARD_PASSWORD is set, but the dashboard needs the optional 'dashboard' packages: "
                      "pip install 'ivr[dashboard]' (from a checkout: pip install '.[dashboard]')"]
    for path in ("/dashboard", "/dashboard/", "/dashboard/plotly.min.js"):
        page = app.test_client().get(path)
        assert page.status_code == 503
        assert page.get_data(as_text=True).count("\n") == 1 and "pip install 'ivr[dashboard]'" in page.get_data(as_text=True)
    # The line itself answers calls as ever.
    assert app.test_client().post("/voice", data={"CallSid": "CA" + "1" * 32, "From": "+15555550123"}).status_code == 200
    app.extensions["ivr"].recorder.engine.dispose()


def test_svg_without_graphviz_says_which_extra(monkeypatch):
    without(monkeypatch, "graphviz")
    result = CliRunner().invoke(main, ["graph", "--format", "svg"],
                                env={"IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts")})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: `ivr graph --format svg` needs the optional 'graph' packages: "
                                                  "pip install 'ivr[graph]' (from a checkout: pip install '.[graph]')"]
    assert CliRunner().invoke(main, ["graph"], env={"IVR_FLOWS_DIR": str(ROOT / "flows"),
                                                    "IVR_PROMPTS_DIR": str(ROOT / "prompts")}).exit_code == 0


def test_postgresql_without_psycopg_refuses_to_start_in_one_line(monkeypatch, env, caplog):
    without(monkeypatch, "psycopg")
    with caplog.at_level(logging.ERROR), pytest.raises(ConfigError, match=r"pip install 'ivr\[postgres\]'"):
        create_app({**env, "DATABASE_URL": "postgres://user:pw@db.example.com:5432/ivr"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "ivr cannot start: DATABASE_URL: a PostgreSQL DATABASE_URL needs the optional 'postgres' packages: "
        "pip install 'ivr[postgres]' (from a checkout: pip install '.[postgres]')"]


def test_another_missing_module_is_not_blamed_on_an_extra():
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        extras.require("no_such_module", "graph")
    assert extras.installed("graph") and extras.installed("dashboard")


def test_the_quick_start_install_needs_none_of_the_extras():
    """`pip install .` (the quick start): the line's own dependencies name no extra's package."""
    tomllib = pytest.importorskip("tomllib")      # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    line = " ".join(project["dependencies"]).lower()
    for extra in ("dashboard", "graph", "postgres"):
        for module in extras.EXTRAS[extra][1]:
            assert module not in line, module
        assert extra in project["optional-dependencies"], extra


def test_production_and_dev_spell_out_the_extras_they_stand_for():
    """`production` and `dev` are written out (pip's constraints mode cannot resolve
    ivr[...] inside ivr): each holds every requirement of the extras it stands for."""
    tomllib = pytest.importorskip("tomllib")
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for combined, parts in (("production", ("dashboard", "postgres")),
                            ("dev", ("test", "lint", "dashboard", "graph", "postgres"))):
        for part in parts:
            assert set(optional[part]) <= set(optional[combined]), (combined, part)
