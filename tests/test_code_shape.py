"""Code shape: no function in csbox/ is longer than a screen (STYLE.md: a step, a strategy or a
check that wants its own name). Counted with ``ast`` from ``def`` to the last line, signature and
docstring included (issue 13's count); no exceptions."""

from __future__ import annotations

import ast
import pathlib

import csbox

MAX_LINES = 80
ROOT = pathlib.Path(csbox.__file__).parent


def _functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{rel}::{node.name}", node))
    return out


def _lines(node: ast.AST) -> int:
    return node.end_lineno - node.lineno + 1


def test_the_counter_counts():
    # a 4-line function with a 2-line docstring counts 4 lines
    node = ast.parse('def f():\n    """Doc.\n    more."""\n    return 1\n').body[0]
    assert _lines(node) == 4


def test_no_function_longer_than_a_screen():
    long = {name: _lines(node) for name, node in _functions() if _lines(node) > MAX_LINES}
    assert not long, f"functions over {MAX_LINES} lines (split them, STYLE.md): {long}"
