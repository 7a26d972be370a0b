"""Where a problem in an operator-edited file is: its file and line.

Parsed YAML arrives as LineDicts (ivr.content.yamlfile reads the files); the
parsers in ivr.call and ivr.language raise SourceError with the line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


class SourceError(Exception):
    """A problem in an operator-edited file, with its file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class LineDict(dict[Any, Any]):
    """A mapping that knows the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)
