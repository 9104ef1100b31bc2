"""The grader's layout holds: no import cycle, the child's folder imports only what it may,
no module much over 400 lines, every docstring's reference to the design document resolves."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "autograder"
INSIDE = PACKAGE / "sandbox" / "inside"
MAX_LINES = 460  # "about 400": a module past this is doing two jobs


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def grader_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")
            if "suites" not in p.relative_to(PACKAGE).parts}


def _in_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING",
                                                                   "typing.TYPE_CHECKING"):
            return True
    return False


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The grader modules ``name`` imports at run time (function-level imports included)."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _in_type_checking(node, parents):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return stack[stack.index(other):] + [other]
            if other not in state and (cycle := visit(other)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def import_graph() -> dict[str, set[str]]:
    modules = grader_modules()
    known = set(modules)
    graph = {name: imports_of(name, path, known) for name, path in modules.items()}
    # A package's __init__ is imported with each of its modules; modules do not import it.
    return {name: {t for t in targets if not name.startswith(t + ".")}
            for name, targets in graph.items()}


def test_no_import_cycle_inside_the_grader() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_child_side_imports_only_the_standard_library_torch_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"torch", "numpy"}
    for path in INSIDE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for dotted in names:
                assert dotted.split(".")[0] in allowed, f"{path.name} imports {dotted}"


# The hidden suites are test files, sized by what they test; every other module is here.
@pytest.mark.parametrize("path", sorted(grader_modules().values()),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_much_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines"


def test_the_design_document_the_docstrings_cite_exists() -> None:
    design = PACKAGE / "DESIGN.md"
    text = design.read_text()
    for heading in ("Security model", "`student` fixture", "message for a student",
                    "How to add a suite", "grading configuration"):
        assert heading in text
    missing = "GRADER" + ".md"  # the name the docstrings used to cite
    for path in [*PACKAGE.rglob("*.py"), *(REPO / "tests").glob("*.py")]:
        assert missing not in path.read_text(), f"{path} cites {missing}"


def test_nntrain_is_not_called_an_oracle_of_the_suites() -> None:
    suites = PACKAGE / "grading" / "suites"
    for path in suites.rglob("*.py"):
        assert "nntrain" not in path.read_text(), f"{path} uses nntrain"
