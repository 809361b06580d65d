"""The project's import graph stays one-way (issue 12).

Read from the source with `ast` (nothing is imported), like the reviewers' checker:

- no circle between files;
- the apps depend one way, sde <- esi <- market <- profit <- appraisal <- characters (an app
  imports only those below it); `store` imports nothing of the project but itself; `config`
  imports no app (nor `standin`), except its entry points (`CONFIG_ENTRY_POINTS`), which wire
  the apps together; `standin` is a development tool at the top: the apps never import it;
- at most `MAX_FUNCTION_IMPORTS` imports of project modules inside functions, each carrying
  its reason in a comment (on its line or the line above).

`if TYPE_CHECKING:` imports are not runtime edges. tests/, migrations/ and benchmarks/ are not
read. A departure that cannot be fixed at once goes in `ALLOWED`, with its reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"tests", "migrations", "benchmarks", ".venv", "node_modules", "var", "staticfiles"}
APPS = ("sde", "esi", "market", "profit", "appraisal", "characters")  # lowest first
FOUNDATION = {"store"}
CONFIG_ENTRY_POINTS = {
    "config.urls",
    "config.wsgi",
    "config.asgi",
    "config.celery",
    "config.api",
    "config.health",
    "config.gunicorn",
}
TOOLS = {"standin"}
MAX_FUNCTION_IMPORTS = 12
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

# Known departures, each as the finding's text -> why it is allowed for now.
ALLOWED: dict[str, str] = {}


@dataclass
class Graph:
    """Who imports whom at run time, and the imports written inside functions."""

    edges: dict[str, set[str]] = field(default_factory=dict)
    # (importer, imported, where, has a comment giving its reason)
    inner: list[tuple[str, str, str, bool]] = field(default_factory=list)


def module_names(root: Path) -> dict[Path, str]:
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if set(parts) & SKIP:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names[path] = ".".join(parts)
    return names


def _ids(node: ast.AST) -> set[int]:
    return {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}


def _commented(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's own lines or on the line just above it."""
    own = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
    above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
    return any("#" in line for line in own) or above.startswith("#")


def read_graph(root: Path) -> Graph:
    names = module_names(root)
    modules = set(names.values())

    def resolve(name: str) -> str | None:  # the longest known module the dotted name is in
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    graph = Graph()
    for path, module in sorted(names.items()):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines = source.splitlines()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        functions = [
            f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        in_function = set().union(*map(_ids, functions))
        type_checking = set().union(
            *(
                _ids(n)
                for n in ast.walk(tree)
                if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
            )
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            if id(node) in type_checking:
                continue
            hits = {t for t in map(resolve, targets) if t and t != module}
            if len(hits) > 1:  # `from package import module` is the module, not the package too
                hits = {h for h in hits if not any(o.startswith(h + ".") for o in hits)}
            for target in sorted(hits):
                graph.edges.setdefault(module, set()).add(target)
                if id(node) in in_function:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    graph.inner.append((module, target, where, _commented(lines, node)))
    return graph


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})
    for start in nodes:
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(edges.get(start, ()))))]
        while work:
            node, rest = work[-1]
            for nxt in rest:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def against_the_direction(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for importer, targets in sorted(edges.items()):
        for target in sorted(targets):
            a, b = importer.split(".")[0], target.split(".")[0]
            if a == b:
                continue
            upward = a in APPS and b in APPS and APPS.index(b) > APPS.index(a)
            from_foundation = a in FOUNDATION and b not in FOUNDATION
            from_config = (
                a == "config" and importer not in CONFIG_ENTRY_POINTS and b in {*APPS, *TOOLS}
            )
            into_tools = a in APPS and b in TOOLS
            if upward or from_foundation or from_config or into_tools:
                found.append(f"against the direction: {importer} -> {target}")
    return found


def not_allowed(findings: list[str]) -> list[str]:
    return [f for f in findings if f not in ALLOWED]


# --- The project ---------------------------------------------------------------------------


def test_no_circle_between_files():
    found = [f"circle: {' <-> '.join(c)}" for c in circles(read_graph(ROOT).edges)]
    assert not_allowed(found) == []


def test_imports_follow_the_apps_direction():
    assert not_allowed(against_the_direction(read_graph(ROOT).edges)) == []


def test_few_imports_inside_functions_each_with_its_reason():
    inner = read_graph(ROOT).inner
    listed = [f"{where} {importer} -> {target}" for importer, target, where, _ in inner]
    assert len(inner) <= MAX_FUNCTION_IMPORTS, "\n".join(listed)
    silent = [f"no reason given: {where}" for _, _, where, commented in inner if not commented]
    assert not_allowed(silent) == []


def test_every_allowed_departure_gives_its_reason():
    assert all(reason.strip() for reason in ALLOWED.values())


# --- The reading itself, on a small made-up project ----------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_reading_finds_circles_direction_and_hidden_imports(tmp_path):
    write(
        tmp_path,
        {
            "store/__init__.py": "",
            "store/base.py": "from market import publish\n",  # the foundation reaching up
            "market/__init__.py": "",
            "market/publish.py": "from . import tasks\n",  # relative: market.tasks
            "market/tasks.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from profit import boards\n"  # not at run time: no edge
                "def later():\n"
                "    from market import publish\n"  # a circle, hidden in a function
                "def why():\n"
                "    # the app registry is not ready at import\n"
                "    from profit.boards import recompute\n"
            ),
            "profit/__init__.py": "",
            "profit/boards.py": "import market.tasks\n",
            "config/__init__.py": "",
            "config/metrics.py": "from market import publish\n",
            "config/urls.py": "from market import publish\n",  # an entry point may
            "tests/test_x.py": "from profit import boards\n",  # tests are not read
        },
    )
    graph = read_graph(tmp_path)
    assert graph.edges["market.publish"] == {"market.tasks"}
    assert graph.edges["market.tasks"] == {"market.publish", "profit.boards"}
    assert "tests.test_x" not in graph.edges
    # publish -> tasks -> publish, and tasks -> boards -> tasks: one knot of three files
    assert circles(graph.edges) == [["market.publish", "market.tasks", "profit.boards"]]
    assert against_the_direction(graph.edges) == [
        "against the direction: config.metrics -> market.publish",
        "against the direction: market.tasks -> profit.boards",
        "against the direction: store.base -> market.publish",
    ]
    assert [(i, t, commented) for i, t, _, commented in graph.inner] == [
        ("market.tasks", "market.publish", False),
        ("market.tasks", "profit.boards", True),
    ]
