"""The package's layout: data flows down through the stages, with no import circle.

Stages, lowest first: errors, instance (format, readers), verifier, model, solver, analysis,
report, batch, serve (the web workbench), cli (and the package root, which re-exports the public API). A module imports
only from its own stage or lower ones, at the top of the module. Two kinds of import inside a
function are allowed, and only these:

* the documented conveniences of ``Solution`` (``explain``, ``plot``, ``_repr_html_``) and
  ``Instance`` (``to_frames``, ``from_frames``, ``replace``), which reach up to the analyses, reports
  and validation;
* an import, within the rules above, of a module that loads a heavy library (Pyomo, pandas,
  matplotlib, openpyxl, Dask, numpy, pydantic, whose schema build is the dearest part of reading; the
  web stack, FastAPI and uvicorn)
  when it is imported: itself, through the packages that hold it or through the modules it imports,
  deferred so that reading, solving small instances and ``outopt --help`` do not pay for it.
"""

import functools

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "outopt"
STAGES = ["errors", "instance", "verifier", "model", "solver", "uncertainty", "analysis", "report", "batch", "serve",
          "cli", "__main__"]
HEAVY = {"pandas", "pyomo", "matplotlib", "openpyxl", "dask", "distributed", "numpy", "highspy", "pydantic",
         "uvicorn", "fastapi"}
CONVENIENCES = {
    ("outopt.solver.solution", "outopt.analysis.explain"),
    ("outopt.solver.solution", "outopt.report.charts"),
    ("outopt.solver.solution", "outopt.report.html"),
    ("outopt.instance.schema", "outopt.instance.io.frames"),
    ("outopt.instance.schema", "outopt.instance.validation"),
    ("outopt.solver.roadmap", "outopt.analysis.roadmap"),
    ("outopt.solver.roadmap", "outopt.report.roadmap"),
}


def modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = modules()


def _runtime_imports(tree: ast.Module):
    """(node, inside_function) for every import that runs (not under ``if TYPE_CHECKING:``)."""

    def walk(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, inside
            yield from walk(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    yield from walk(tree, False)


def imports(name: str) -> tuple[set[str], set[str], set[str]]:
    """outopt modules imported at the top, outopt modules imported inside functions, and third-party tops."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top, inner, libs = set(), set(), set()
    for node, inside in _runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            root = target.split(".")[0]
            if root != "outopt":
                if not inside and root in HEAVY:
                    libs.add(root)
                continue
            # the module itself, or the package holding it when the name is one of its attributes
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name:
                (inner if inside else top).add(target)
    return top, inner, libs


@functools.cache
def loads_heavy(name: str) -> bool:
    """Whether importing the module loads a heavy library: the module itself, a package holding it
    (its ``__init__`` runs first) or an outopt module it imports at the top, transitively."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module in seen or module not in MODULES:
            continue
        seen.add(module)
        top, _, libs = imports(module)
        if libs:
            return True
        parts = module.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))] + sorted(top)
    return False


def stage(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1:  # the package root re-exports everything
        return len(STAGES)
    return STAGES.index(parts[1])


def test_every_module_belongs_to_a_stage():
    for name in MODULES:
        stage(name)  # raises ValueError for a module outside the stages


def test_inner_imports_are_conveniences_or_defer_a_heavy_library():
    bad = []
    for name in MODULES:
        _, inner, _ = imports(name)
        for target in inner:
            if (name, target) in CONVENIENCES:
                continue
            if not loads_heavy(target):
                bad.append(f"{name} imports {target} inside a function; import it at the top")
    assert not bad, "\n".join(bad)


def test_lower_stages_never_import_higher_ones():
    bad = []
    for name in MODULES:
        top, inner, _ = imports(name)
        for target in top | inner:
            if (name, target) not in CONVENIENCES and stage(target) > stage(name):
                bad.append(f"{name} (stage {STAGES[stage(name)]}) imports {target}")
    assert not bad, "\n".join(bad)


def test_no_import_circle():
    graph = {}
    for name in MODULES:
        top, inner, _ = imports(name)
        graph[name] = {t for t in top | inner if (name, t) not in CONVENIENCES}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_no_function_is_longer_than_120_lines():
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 120:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, "\n".join(long)


def test_few_loose_modules_at_the_top():
    loose = sorted(p.stem for p in SRC.glob("*.py") if p.stem != "__init__")
    assert loose == ["__main__", "batch", "cli", "errors"]


def test_the_command_line_loads_no_heavy_library_before_a_command_runs():
    """``outopt --help`` and ``--version`` answer at once: the cli module and what it imports at the top
    load none of the heavy libraries (each command imports what it needs)."""
    assert not loads_heavy("outopt.cli") and not loads_heavy("outopt")
