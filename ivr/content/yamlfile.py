"""YAML loading that remembers line numbers, so errors can point at them.

An operator who breaks a flow file at 2 a.m. needs "flows/x.yaml:42: ..." and
not a stack trace.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from ivr.language.source import LineDict, SourceError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader where only true/false are booleans.

    YAML 1.1 reads on, off, yes and no as booleans, and a flow says
    `on: {yes: ..., no: ...}`; operators should not have to quote them.
    Parsed by libyaml when PyYAML has it: the pure-Python parser took a third
    of the server's start-up (issue 7); line numbers come through the same.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise SourceError(
                loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path: Path) -> object:
    """Parse a YAML file; syntax errors become SourceError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, None, f"cannot read: {exc}") from None
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SourceError(path, line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SourceError(path, None, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
