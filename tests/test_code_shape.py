"""Code shape: no function in csbox/ is longer than a screen (STYLE.md: a step, a strategy or a
check that wants its own name). Counted with ``ast``: the signature and the code, not the
docstring (a docstring with the math, the parameters and a doctest is documentation, and must
not force a split of the code it documents). Docstrings are bounded separately, loosely."""

from __future__ import annotations

import ast
import pathlib

import csbox

MAX_LINES = 80  # signature + code, docstring excluded
MAX_DOC_LINES = 120  # a docstring past this wants a page in docs/ instead
ROOT = pathlib.Path(csbox.__file__).parent


def _functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{rel}::{node.name}", node))
    return out


def _doc_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
        first.value.value, str
    )
    return first.end_lineno - first.lineno + 1 if is_doc else 0


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of the function (decorators excluded) less its docstring."""
    return node.end_lineno - node.lineno + 1 - _doc_lines(node)


def test_the_counter_counts():
    # a 4-line function with a 2-line docstring: 2 lines of signature and code
    node = ast.parse('def f():\n    """Doc.\n    more."""\n    return 1\n').body[0]
    assert _doc_lines(node) == 2 and _code_lines(node) == 2


def test_no_function_longer_than_a_screen():
    long = {name: _code_lines(node) for name, node in _functions() if _code_lines(node) > MAX_LINES}
    assert not long, f"functions over {MAX_LINES} lines of code (split them, STYLE.md): {long}"


def test_docstrings_stay_readable():
    long = {name: _doc_lines(node) for name, node in _functions() if _doc_lines(node) > MAX_DOC_LINES}
    assert not long, f"docstrings over {MAX_DOC_LINES} lines (move the detail to docs/): {long}"
