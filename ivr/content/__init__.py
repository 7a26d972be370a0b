"""Loads the flow and the prompts once, checks them, and builds the engine.

Done at start-up, never per request: a broken file stops the server before a
caller can reach it, with the file, the line and what is wrong.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.call import escalation as escalation_module
from ivr.call import flow as flow_module
from ivr.call import station, understanding
from ivr.call import vehicles as vehicles_module
from ivr.call.engine import Engine
from ivr.call.escalation import Escalation
from ivr.call.flow import Flow
from ivr.call.vehicles import Vehicles
from ivr.content import lint
from ivr.content.yamlfile import load as load_yaml
from ivr.language import prompts
from ivr.language.prompts import Catalog
from ivr.language.source import SourceError
from ivr.language.vocabulary import Vocabulary

DEFAULT_FLOW = "stuck_connector"


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


def load_flow(path: Path) -> Flow:
    """flows/<name>.yaml."""
    return flow_module.parse(load_yaml(path), str(path))


VEHICLES_FILE = "vehicles.yaml"


def vehicles_path(flows_dir: Path) -> Path:
    """The cars' file: the flows folder's own, else the shipped one (an operator's folder
    holding only its flow still has the cars, and the car_ prompts stay in use)."""
    package = Path(__file__).resolve().parents[1]          # ivr/
    candidates = (flows_dir / VEHICLES_FILE, package.parent / "flows" / VEHICLES_FILE,
                  package / "_flows" / VEHICLES_FILE)
    return next((c for c in candidates if c.is_file()), candidates[0])


def load_vehicles(path: Path) -> Vehicles:
    """flows/vehicles.yaml: each car's stuck-plug facts, with their sources (issue 15)."""
    return vehicles_module.parse(load_yaml(path), str(path))


def load_escalation(path: Path) -> Escalation:
    """flows/escalation.yaml; a missing file means the built-in chain (a voicemail)."""
    if not path.exists():
        return Escalation(path=str(path))
    return escalation_module.parse(load_yaml(path), str(path))


def load_prompts(directory: Path) -> dict[str, Catalog]:
    """Every prompts/<language>.yaml, keyed by language."""
    catalogs = {}
    for path in sorted(directory.glob("*.yaml")):
        catalog = prompts.parse(load_yaml(path), str(path))
        catalogs[catalog.language] = catalog
    if not catalogs:
        raise SourceError(directory, None, "no prompts files (<language>.yaml) found")
    return catalogs


def _english(catalogs: Mapping[str, Catalog], prompts_dir: Path) -> Vocabulary:
    """English's vocabulary reads English and backs up every language: the loaded
    en-US's, or the shipped one's when a deployment's prompts have no English."""
    catalog = catalogs.get("en-US")
    if catalog is None:
        package = Path(__file__).resolve().parents[1]          # ivr/
        shipped = next((p for p in (package / "_prompts" / "en-US.yaml", package.parent / "prompts" / "en-US.yaml")
                        if p.is_file()), package / "_prompts" / "en-US.yaml")
        try:
            catalog = prompts.parse(load_yaml(shipped), str(shipped))
        except SourceError as exc:
            raise ContentError([exc]) from None
    if catalog.vocabulary is None:
        raise ContentError([f"{catalog.path}: no `understanding:` section to read English with"])
    return catalog.vocabulary


def _switch_key_problems(catalogs: Mapping[str, Catalog]) -> list:
    """Two languages may not claim the same key."""
    problems: list = []
    claimed: dict[str, str] = {}
    for catalog in catalogs.values():
        if catalog.switch_key and catalog.switch_key in claimed:
            problems.append(lint.Problem(catalog.path, 1, f"switch_key {catalog.switch_key} is {claimed[catalog.switch_key]}'s already"))
        elif catalog.switch_key:
            claimed[catalog.switch_key] = catalog.language
    return problems


def load(flows_dir: Path, prompts_dir: Path, flow_name: str = DEFAULT_FLOW,
         default_language: str = "en-US") -> Content:
    path = flows_dir / f"{flow_name}.yaml"
    try:
        flow = load_flow(path)
        catalogs = load_prompts(prompts_dir)
        escalation = load_escalation(flows_dir / "escalation.yaml")
        vehicles = load_vehicles(vehicles_path(flows_dir))
    except SourceError as exc:
        raise ContentError([exc]) from None
    if default_language not in catalogs:
        raise ContentError([f"{prompts_dir}: no prompts for the default language {default_language}"])
    english = _english(catalogs, prompts_dir)
    problems = lint.check(flow, catalogs, vehicles)
    problems += [lint.Problem(flow.path, 1, problem) for problem in station.settings_problems(flow.settings)]
    problems += _switch_key_problems(catalogs)
    if problems:
        raise ContentError(problems)
    understanding.use_english(english)
    understanding.use_switch_keys({c.switch_key: c.language for c in catalogs.values() if c.switch_key})
    return Content(flow, catalogs, Engine(flow, catalogs, default_language, vehicles), default_language, escalation,
                   vehicles)
