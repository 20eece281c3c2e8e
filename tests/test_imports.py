"""The import graph of csbox/, read with ``ast`` (nothing is imported): layers, no cycles, no private names.

A *unit* is a subpackage (``csbox.operators`` with everything under it) or a root-level module
(``csbox.backend``). Every ``import`` and ``from ... import`` in ``csbox/`` counts, at module level
or inside a function (a lazy import is still a dependency). ``csbox/__init__.py`` is the facade:
it may import anything, is not a unit, and counts as the top layer when imported (the console
script may read ``csbox.__version__``; no lower unit may import the facade). The rules:

(a) a unit imports only units of its own layer or below (``LAYERS``);
(b) the unit-level graph has no cycle (imports within a layer are allowed, circles are not);
(c) no ``_private`` name crosses a unit line: not imported by name (``from ..x import _y``), not
    reached as an attribute of an imported module (``backend._y``), and no module below a
    ``_private`` path component of another unit is imported (``csbox.operators._wavelet_cupy``).
    The root-level private modules ``csbox._validation``, ``csbox._sparse`` and
    ``csbox._nufft_backend`` are the shared base: their public names may be imported by any unit
    (their ``_private`` names may not).
"""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "csbox"

#: unit -> layer; a unit may import units whose layer is <= its own
LAYERS = {
    **dict.fromkeys(["backend", "_validation", "_sparse", "_nufft_backend", "linop", "iterative", "metrics",
                     "phantoms", "theory", "data"], 0),
    "operators": 1,
    "penalties": 2,
    **dict.fromkeys(["solvers", "ot", "sbl", "dictionary", "sparse_wht"], 3),
    "sampling": 4,
    **dict.fromkeys(["mri", "ultrasound", "sar", "comms", "io"], 5),
    **dict.fromkeys(["distributed", "testing"], 6),
    **dict.fromkeys(["demos", "cli"], 7),
}
TOP = max(LAYERS.values())  # the facade's layer when a unit imports it
SHARED_BASE = {"csbox._validation", "csbox._sparse", "csbox._nufft_backend"}
FACADE = "csbox"


@dataclass(frozen=True)
class Edge:
    """One import: ``src`` (module) imports ``names`` from ``target`` (module) at ``where``."""

    src: str
    target: str
    names: tuple[str, ...]
    where: str


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def unit(module: str) -> str:
    """``csbox.a.b.c`` -> ``a``; the facade ``csbox`` -> ``csbox``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACADE


class Tree:
    """The modules of a source tree: ``{module name: source}`` (a dict, so a test can plant one)."""

    def __init__(self, sources: dict[str, str], packages: set[str]):
        self.sources = sources
        self.packages = packages  # module names that are packages (an __init__.py)
        self._parsed: dict[str, ast.Module] = {}
        self._edges: dict[str, list[Edge]] = {}

    @classmethod
    def from_disk(cls, root: pathlib.Path = ROOT) -> Tree:
        sources, packages = {}, set()
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
                packages.add(".".join(parts))
            sources[".".join(parts)] = path.read_text(encoding="utf-8")
        return cls(sources, packages)

    def parsed(self, src: str) -> ast.Module:
        if src not in self._parsed:
            self._parsed[src] = ast.parse(self.sources[src])
        return self._parsed[src]

    def resolve(self, src: str, node: ast.ImportFrom) -> str:
        """The absolute module a ``from`` import reads from."""
        if not node.level:
            return node.module or ""
        base = src.split(".")
        if src not in self.packages:
            base = base[:-1]  # a module's relative imports start from its package
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def edges(self, src: str) -> list[Edge]:
        """Every import of ``src`` into csbox; ``from pkg import sub`` counts as importing ``sub``."""
        if src in self._edges:
            return self._edges[src]
        out = []
        for node in ast.walk(self.parsed(src)):
            where = f"{src}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                out += [Edge(src, a.name, (), where) for a in node.names if in_csbox(a.name)]
            elif isinstance(node, ast.ImportFrom):
                target = self.resolve(src, node)
                if not in_csbox(target):
                    continue
                names = tuple(a.name for a in node.names)
                subs = [n for n in names if f"{target}.{n}" in self.sources]
                out += [Edge(src, f"{target}.{n}", (), where) for n in subs]
                rest = tuple(n for n in names if n not in subs)
                if rest or not subs:
                    out.append(Edge(src, target, rest, where))
        self._edges[src] = out
        return out

    def private_attributes(self, src: str) -> list[tuple[str, str]]:
        """``(module, attribute)`` for each ``_private`` attribute read off a module of another unit."""
        tree = self.parsed(src)
        bound = {}  # local name -> csbox module it is bound to (``import csbox.a.b`` binds the path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if in_csbox(a.name):
                        bound[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom):
                target = self.resolve(src, node)
                for a in node.names:
                    if f"{target}.{a.name}" in self.sources:
                        bound[a.asname or a.name] = f"{target}.{a.name}"
        out = []
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and _private(n.attr):
                module = bound.get(_dotted(n.value))
                if module is not None and unit(module) not in (unit(src), FACADE):
                    out.append((module, n.attr))
        return out


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a chain of attributes on a name, ``""`` for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def in_csbox(module: str) -> bool:
    """Whether ``module`` is inside csbox."""
    return module == FACADE or module.startswith(FACADE + ".")


def layer_violations(tree: Tree) -> list[str]:
    """Rule (a), and every unit named in the layer table."""
    out = []
    for src in tree.sources:
        if src == FACADE:
            continue
        if unit(src) not in LAYERS:
            out.append(f"{src}: unit {unit(src)!r} is not in LAYERS (give it a layer)")
            continue
        for e in tree.edges(src):
            dst = unit(e.target)
            if dst == unit(src):
                continue
            if dst == FACADE and LAYERS[unit(src)] < TOP:
                out.append(f"{e.where}: imports the facade csbox/__init__.py (import the unit itself)")
            elif dst == FACADE:
                continue
            elif dst not in LAYERS:
                out.append(f"{e.where}: imports {e.target}, whose unit {dst!r} is not in LAYERS")
            elif LAYERS[dst] > LAYERS[unit(src)]:
                out.append(f"{e.where}: {unit(src)} (layer {LAYERS[unit(src)]}) imports {e.target} "
                           f"(layer {LAYERS[dst]}): an import up a layer")
    return out


def unit_graph(tree: Tree) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for src in tree.sources:
        if src == FACADE:
            continue
        graph.setdefault(unit(src), set()).update(
            unit(e.target) for e in tree.edges(src) if unit(e.target) not in (unit(src), FACADE))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def private_violations(tree: Tree) -> list[str]:
    """Rule (c)."""
    out = []
    for src in tree.sources:
        if src == FACADE:
            continue
        for e in tree.edges(src):
            if unit(e.target) in (unit(src), FACADE):
                continue
            inner = e.target.split(".")[2:]  # below the unit: csbox.operators._x -> ["_x"]
            if e.target not in SHARED_BASE and any(_private(p) for p in [unit(e.target), *inner]):
                out.append(f"{e.where}: imports {e.target}, a private module of another unit")
            out += [f"{e.where}: imports the private name {n} from {e.target}"
                    for n in e.names if _private(n)]
        out += [f"{src}: reads the private attribute {m}.{a}" for m, a in tree.private_attributes(src)]
    return out


# ----------------------------------------------------------------------------- the checker checks
def _planted(sources: dict[str, str]) -> Tree:
    base = {"csbox": "", "csbox.backend": "", "csbox.operators": "", "csbox.operators.fourier": "",
            "csbox.operators._fast": "", "csbox.solvers": "", "csbox.solvers.fista": "",
            "csbox.penalties": "", "csbox._validation": ""}
    base.update(sources)
    return Tree(base, {"csbox", "csbox.operators", "csbox.solvers", "csbox.penalties"})


def test_checker_catches_planted_violations():
    tree = _planted({
        # a lazy import up a layer, inside a function
        "csbox.operators.fourier": "def f():\n    from ..solvers import fista\n    return fista\n",
        "csbox.solvers.fista": "from ..operators.fourier import _helper\nfrom ..operators import _fast\n"
                               "from .. import backend\nx = backend._cache\n"
                               "import csbox.operators.fourier\ny = csbox.operators.fourier._plan\n",
        "csbox.penalties": "import csbox.operators._fast as fast\nimport csbox\n",
    })
    layers = layer_violations(tree)
    assert len(layers) == 2 and "csbox.operators.fourier:2" in layers[0] and "up a layer" in layers[0]
    assert "csbox.penalties:2: imports the facade" in layers[1]
    priv = private_violations(tree)
    assert any("private name _helper from csbox.operators.fourier" in v for v in priv)
    assert any("imports csbox.operators._fast, a private module" in v and "fista:2" in v for v in priv)
    assert any("penalties:1: imports csbox.operators._fast" in v for v in priv)
    assert any("private attribute csbox.backend._cache" in v for v in priv)
    assert any("private attribute csbox.operators.fourier._plan" in v for v in priv)
    assert cycles(unit_graph(tree)) == [["operators", "solvers"]]


def test_checker_allows_what_the_rules_allow():
    tree = _planted({
        "csbox": "from .solvers import fista\nfrom .operators._fast import thing\n",  # the facade
        "csbox.solvers.fista": "from .._validation import check_int\nfrom ..operators import fourier\n"
                               "from . import fista as me\nfrom ..operators.fourier import __doc__\n",
        "csbox.operators.fourier": "from ._fast import _kernel\nfrom ..backend import to_numpy\n",
        "csbox.cli": "def info():\n    import csbox\n    return csbox.__version__\n",
    })
    assert layer_violations(tree) == []
    assert private_violations(tree) == []
    assert cycles(unit_graph(tree)) == []


def test_relative_imports_resolve():
    tree = _planted({})
    node = ast.parse("from ..operators import fourier").body[0]
    assert tree.resolve("csbox.solvers.fista", node) == "csbox.operators"
    assert tree.resolve("csbox.solvers", ast.parse("from .fista import x").body[0]) == "csbox.solvers.fista"
    assert tree.resolve("csbox.backend", ast.parse("from . import linop").body[0]) == "csbox"


# ----------------------------------------------------------------------------- the tree obeys them
@pytest.fixture(scope="module")
def tree():
    return Tree.from_disk()


def test_no_import_runs_up_a_layer(tree):
    bad = layer_violations(tree)
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_cycle_between_units(tree):
    found = cycles(unit_graph(tree))
    assert not found, f"import cycles between units: {found}"


def test_no_private_name_crosses_a_unit_line(tree):
    bad = private_violations(tree)
    assert not bad, "private names across units:\n" + "\n".join(bad)
