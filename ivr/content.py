"""Loads the flow and the prompts once, checks them, and builds the engine.

Done at start-up, never per request: a broken file stops the server before a
caller can reach it, with the file, the line and what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import escalation as escalation_module, flow as flow_module, lint, prompts, station
from . import vehicles as vehicles_module
from .engine import Engine
from .escalation import Escalation
from .flow import Flow
from .prompts import Catalog
from .vehicles import Vehicles
from .yamlfile import SourceError

DEFAULT_FLOW = "stuck_connector"
VEHICLES_FILE = "vehicles.yaml"


def vehicles_path(flows_dir: Path) -> Path:
    """The cars' file: the flows folder's own, else the shipped one (an operator's folder
    holding only its flow still has the cars, and the car_ prompts stay in use)."""
    here = Path(__file__).resolve().parent
    candidates = (flows_dir / VEHICLES_FILE, here.parent / "flows" / VEHICLES_FILE, here / "_flows" / VEHICLES_FILE)
    return next((c for c in candidates if c.is_file()), candidates[0])


class ContentError(Exception):
    """The flow or the prompts are broken; `problems` lists each with file and line."""

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__("the flow or its prompts are broken:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Content:
    flow: Flow
    catalogs: Mapping[str, Catalog]
    engine: Engine
    default_language: str
    escalation: Escalation = escalation_module.DEFAULT
    vehicles: Vehicles | None = None      # flows/vehicles.yaml: the cars' tips (issue 15)


def load(flows_dir: Path, prompts_dir: Path, flow_name: str = DEFAULT_FLOW,
         default_language: str = "en-US") -> Content:
    path = flows_dir / f"{flow_name}.yaml"
    try:
        flow = flow_module.load(path)
        catalogs = prompts.load_all(prompts_dir)
        escalation = escalation_module.load(flows_dir / "escalation.yaml")
        vehicles = vehicles_module.load(vehicles_path(flows_dir))
    except SourceError as exc:
        raise ContentError([exc]) from None
    if default_language not in catalogs:
        raise ContentError([f"{prompts_dir}: no prompts for the default language {default_language}"])
    problems = lint.check(flow, catalogs, vehicles)
    problems += [lint.Problem(flow.path, 1, problem) for problem in station.settings_problems(flow.settings)]
    if problems:
        raise ContentError(problems)
    return Content(flow, catalogs, Engine(flow, catalogs, default_language), default_language, escalation,
                   vehicles)
