"""Code shape: no function in csbox/ is longer than a screen (STYLE.md: a step, a strategy or a
check that wants its own name).

What counts is *code*: the lines from ``def`` to the function's last line that hold at least one
token of Python code. Docstrings (the function's own and those of functions and classes nested in
it), comment-only lines and blank lines do not count, so a full NumPy docstring or a comment that
says why never pushes a function over the cap, and signatures never need packing (``# fmt: skip``)
to make room for documentation. A multi-line string that is not a docstring is code and counts
every line; decorators are not part of the count (they sit above ``def``). No exceptions.
"""

from __future__ import annotations

import ast
import io
import pathlib
import tokenize

import csbox

MAX_LINES = 80
ROOT = pathlib.Path(csbox.__file__).parent

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER, tokenize.ENCODING}
_HAS_DOCSTRING = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _docstring_lines(tree: ast.AST) -> set[int]:
    """Line numbers covered by docstrings (first statement a string constant) anywhere in ``tree``."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, _HAS_DOCSTRING) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(source: str) -> set[int]:
    """Line numbers of ``source`` that hold code: a token other than a comment, docstrings removed."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _NOT_CODE:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - _docstring_lines(ast.parse(source))


def function_lengths(source: str, name: str = "<source>") -> dict[str, int]:
    """``{"name::function": code lines}`` for every function (nested ones too) in ``source``."""
    code = code_lines(source)
    out = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            span = range(node.lineno, node.end_lineno + 1)
            out[f"{name}::{node.name}:{node.lineno}"] = sum(1 for line in span if line in code)
    return out


def test_the_counter_counts_code_only():
    source = '''
@decorator
def f(a,
      b):
    """Doc.

    More doc, over several lines.
    """
    # a comment that says why

    x = """not a docstring:
    two lines"""

    def g():
        """Nested docstring."""
        return 1  # a trailing comment: the line holds code
    return x
'''
    # def f(a, / b): / x = """... / two lines""" / def g(): / return 1 / return x
    assert function_lengths(source) == {"<source>::f:3": 7, "<source>::g:14": 2}
    # a one-line function with a docstring counts its def and body lines only
    assert function_lengths('def h():\n    """Doc."""\n    return 1\n') == {"<source>::h:1": 2}


def test_a_long_docstring_does_not_count():
    doc = "\n".join(f"    line {i}" for i in range(200))
    body = "\n".join(f"    v{i} = {i}" for i in range(MAX_LINES - 1))
    source = f'def f():\n    """Summary.\n{doc}\n    """\n{body}\n'
    assert function_lengths(source) == {"<source>::f:1": MAX_LINES}


def test_no_function_longer_than_a_screen():
    long = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).as_posix()
        for name, n in function_lengths(path.read_text(encoding="utf-8"), rel).items():
            if n > MAX_LINES:
                long[name] = n
    assert not long, f"functions over {MAX_LINES} code lines (split them, STYLE.md): {long}"
