"""Lines per layer and the largest functions: the figures of issue 13's before/after table.

    python -m bench.layers [REV]     # REV: a commit to compare with (default: the one before the layout)

Counts non-blank, non-comment lines of ivr/ (migrations left out) per package, the web's
views and the console apart; a flat module of the old layout is counted in the package
it moved to (git's renames at the layout commit).
"""
from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = "fef836d"    # the commit that moved the flat modules into packages


def _renames() -> dict[str, str]:
    out = subprocess.run(["git", "-C", str(ROOT), "diff", "-M", "--name-status", f"{LAYOUT}^", LAYOUT, "--", "ivr"],
                         capture_output=True, text=True, check=True).stdout
    return {parts[1]: parts[2] for parts in (line.split() for line in out.splitlines()) if parts[0].startswith("R")}


def _layer(path: str) -> str:
    parts = Path(path).parts
    if len(parts) > 3 and parts[2] == "views" and (parts[3] == "console" or parts[3] in ("dashboard.py", "throttle.py")):
        return "web/console"
    if len(parts) > 2 and parts[1] == "web" and parts[2] == "views":
        return "web/views"
    return parts[1] if len(parts) > 2 else "app"


def tally(root: Path, moved: dict[str, str]) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    lines: dict[str, int] = {}
    functions: list[tuple[int, str, str]] = []
    for path in sorted((root / "ivr").rglob("*.py")):
        name = str(path.relative_to(root))
        if "migrations" in name:
            continue
        layer = _layer(moved.get(name, name))
        text = path.read_text()
        lines[layer] = lines.get(layer, 0) + sum(1 for line in text.splitlines()
                                                 if line.strip() and not line.strip().startswith("#"))
        functions += [(node.end_lineno - node.lineno + 1, f"{name}:{node.name}", layer)
                      for node in ast.walk(ast.parse(text))
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno]
    return lines, functions


def main() -> None:
    rev = sys.argv[1] if len(sys.argv) > 1 else f"{LAYOUT}^"
    with tempfile.TemporaryDirectory() as before:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "ivr"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", before], input=archive.stdout, check=True)
        old, old_functions = tally(Path(before), _renames())
    new, new_functions = tally(ROOT, {})
    print(f"| layer | {rev} | now |\n| --- | --- | --- |")
    for layer in sorted(set(old) | set(new)):
        print(f"| {layer} | {old.get(layer, 0)} | {new.get(layer, 0)} |")
    print(f"| total | {sum(old.values())} | {sum(new.values())} |")
    for label, functions in ((rev, old_functions), ("now", new_functions)):
        print(f"{label}: largest {sorted(functions, reverse=True)[:3]}")
        print(f"{label}: largest in the webhooks {sorted(f for f in functions if f[2] == 'web/views')[-1:]}")


if __name__ == "__main__":
    main()
