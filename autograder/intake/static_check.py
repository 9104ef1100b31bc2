"""The static half of the forbidden-name rule: read a submission's syntax tree in the grader.

:func:`static_check` resolves import aliases (``import torch.nn.functional as F``,
``from torch import sigmoid``, ``F = torch.nn.functional``), attribute chains,
``getattr`` with a constant name, ``__import__``/``importlib.import_module`` of a
constant module and tensor-method calls, and attributes every forbidden use to
the top-level function or class that contains it.  A part is refused when it, or
a helper of the submission it refers to (transitively), uses a forbidden name;
the other parts are graded normally.  The runtime half, in the child, is
:mod:`autograder.sandbox.inside.runtime_guard`; both use its :func:`is_forbidden`.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from autograder.sandbox.inside.runtime_guard import is_forbidden
from autograder.spec import REFUSED_MODULES, TAMPERING_ATTRIBUTES, TAMPERING_NAMES


# ============================================================================ static check
@dataclass(frozen=True)
class Finding:
    """One forbidden use found in the code: ``name`` (dotted) used by ``owner`` at ``line``."""

    owner: str  # top-level function/class/variable, or "<cell NAME>" for loose statements
    name: str
    line: int
    cell: str

    def describe(self) -> str:
        return f"`{self.name}` (line {self.line} of the `{self.cell}` cell)"


@dataclass
class StaticReport:
    """Forbidden uses per top-level name, and which top-level names each one refers to."""

    direct: dict[str, list[Finding]] = field(default_factory=dict)
    refs: dict[str, set[str]] = field(default_factory=dict)
    loose: list[Finding] = field(default_factory=list)  # statements outside any definition

    @property
    def tampering(self) -> list[Finding]:
        """Loose uses that can switch the runtime guard off (they cost every part)."""
        return [f for f in self.loose
                if f.name.startswith(("the attribute ", "the name ", "the module "))
                or is_forbidden(f.name, TAMPERING_NAMES)]

    def uses(self, name: str) -> list[tuple[Finding, list[str]]]:
        """Forbidden uses reachable from ``name``, each with the chain of helpers leading to it."""
        found: list[tuple[Finding, list[str]]] = []
        seen = {name}
        stack: list[tuple[str, list[str]]] = [(name, [])]
        while stack:
            current, via = stack.pop(0)
            for finding in self.direct.get(current, []):
                found.append((finding, via))
            for ref in sorted(self.refs.get(current, ())):
                if ref not in seen and (ref in self.direct or ref in self.refs):
                    seen.add(ref)
                    stack.append((ref, [*via, ref]))
        return found

    def first_use(self, name: str) -> tuple[Finding, list[str]] | None:
        uses = self.uses(name)
        return uses[0] if uses else None

    def summary(self, names: Sequence[str]) -> list[str]:
        """One line per flagged name among ``names`` (for the results' output)."""
        lines = []
        if self.tampering:
            lines.append(f"the notebook uses {self.tampering[0].describe()} outside any function: "
                         "it can switch off the check of forbidden calls, so every part scores 0")
        for name in names:
            use = self.first_use(name)
            if use is not None:
                finding, via = use
                through = f" through {' -> '.join(f'`{v}`' for v in via)}" if via else ""
                lines.append(f"`{name}` uses the forbidden {finding.describe()}{through}; "
                             f"its tests score 0")
        return lines


class _Resolver:
    """Resolve expressions to dotted names using the submission's import aliases."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def dotted(self, node: ast.AST, local: dict[str, str] | None = None) -> str | None:
        local = local or {}
        if isinstance(node, ast.Name):
            return local.get(node.id, self.aliases.get(node.id))
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value, local)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.dotted(node.func, local)
            args = node.args
            if (func == "builtins.getattr" and len(args) >= 2 and isinstance(args[1], ast.Constant)
                    and isinstance(args[1].value, str)):
                base = self.dotted(args[0], local)
                return f"{base}.{args[1].value}" if base else None
            if (func in ("builtins.__import__", "importlib.import_module") and args
                    and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
                return args[0].value
        return None


_BUILTIN_ALIASES = {name: f"builtins.{name}" for name in (
    "getattr", "__import__", "compile", "exec", "eval", "breakpoint")}


def _import_bindings(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """Names an import statement binds and the dotted names they stand for."""
    bound: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                bound[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                bound[top] = top
    elif node.level == 0 and node.module:
        for alias in node.names:
            if alias.name != "*":
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


class _UseCollector(ast.NodeVisitor):
    """Forbidden uses and references to top-level names inside one definition."""

    def __init__(self, resolver: _Resolver, forbidden: Sequence[str],
                 tensor_methods: Sequence[str], top_level: set[str]) -> None:
        self.resolver = resolver
        self.forbidden = forbidden
        self.tensor_methods = set(tensor_methods)
        self.top_level = top_level
        self.local_aliases: dict[str, str] = {}
        self.hits: list[tuple[str, int]] = []
        self.refs: set[str] = set()

    def _check(self, dotted: str | None, node: ast.AST) -> bool:
        if dotted and is_forbidden(dotted, self.forbidden):
            self.hits.append((dotted, getattr(node, "lineno", 0)))
            return True
        return False

    def _refused_module(self, module: str | None, node: ast.AST) -> bool:
        if module and module.split(".")[0] in REFUSED_MODULES:  # import builtins
            self.hits.append((f"the module {module.split('.')[0]}", getattr(node, "lineno", 0)))
            return True
        return False

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self._refused_module(alias.name, node):
                self._check(alias.name, node)
        self.local_aliases.update(_import_bindings(node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and self._refused_module(node.module, node):
            return
        if node.level == 0 and node.module and not self._check(node.module, node):
            for alias in node.names:
                self._check(f"{node.module}.{alias.name}", node)
        self.local_aliases.update(_import_bindings(node))

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in TAMPERING_ATTRIBUTES:  # __builtins__ as a name
            self.hits.append((f"the name {node.id}", node.lineno))
            return
        if isinstance(node.ctx, ast.Load):
            if node.id in self.top_level:
                self.refs.add(node.id)
            self._check(self.resolver.dotted(node, self.local_aliases), node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in TAMPERING_ATTRIBUTES:  # reaching past the guard (x.__closure__)
            self.hits.append((f"the attribute {node.attr}", node.lineno))
            return
        dotted = self.resolver.dotted(node, self.local_aliases)
        if self._check(dotted, node):
            return
        if node.attr in self.tensor_methods and (
                dotted is None or dotted.startswith("torch.Tensor.")
                or dotted.startswith("torch._C.TensorBase.")):
            self.hits.append((f"Tensor.{node.attr}", node.lineno))
            return
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        # getattr(torch, "sigmoid"), __import__("torch.nn.functional"), import_module(...)
        if self._check(self.resolver.dotted(node, self.local_aliases), node):
            return
        func = self.resolver.dotted(node.func, self.local_aliases)
        if (func in ("builtins.__import__", "importlib.import_module") and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and self._refused_module(node.args[0].value, node)):
            return
        if (func in ("builtins.getattr", "builtins.setattr", "builtins.delattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in TAMPERING_ATTRIBUTES):
            self.hits.append((f"the attribute {node.args[1].value}", node.lineno))
            return
        self.generic_visit(node)


def _bound_names(node: ast.stmt) -> list[str]:
    """Top-level names a statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return list(_import_bindings(node))
    return []


def static_check(cells: Sequence[tuple[str, str]], forbidden: Sequence[str],
                 tensor_methods: Sequence[str] = ()) -> StaticReport:
    """Find forbidden uses in ``cells`` (pairs of cell name and code, imports cell first)."""
    trees: list[tuple[str, ast.Module]] = []
    for cell_name, code in cells:
        try:
            trees.append((cell_name, ast.parse(code)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # the child reports the error when it runs the cell

    # The statement that binds each top-level name last (cells run in this order): a later
    # definition replaces an import of the same name and vice versa.
    last: dict[str, ast.stmt] = {}
    for _, tree in trees:
        for node in tree.body:
            for name in _bound_names(node):
                last[name] = node
    top_level = set(last)
    aliases = dict(_BUILTIN_ALIASES)
    aliases["importlib"] = "importlib"
    for _, tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                aliases.update({name: dotted for name, dotted in _import_bindings(node).items()
                                if last.get(name) is node})
    for name, node in last.items():
        if not isinstance(node, ast.Import | ast.ImportFrom):
            aliases.pop(name, None)
    resolver = _Resolver(aliases)
    # Simple aliases of modules at top level (F = torch.nn.functional) resolve like imports.
    for _, tree in trees:
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and last.get(node.targets[0].id) is node):
                dotted = resolver.dotted(node.value)
                if dotted:
                    aliases[node.targets[0].id] = dotted

    report = StaticReport()
    for cell_name, tree in trees:
        for node in tree.body:
            # Only the binding that stands at the end counts (a replaced definition does not).
            owners = [name for name in _bound_names(node) if last.get(name) is node]
            if isinstance(node, ast.Import | ast.ImportFrom):
                # Importing is not using: `from torch import sigmoid` binds a forbidden object,
                # which counts against whatever name it is bound to.
                for bound, dotted in _import_bindings(node).items():
                    if bound in owners and is_forbidden(dotted, forbidden):
                        report.direct.setdefault(bound, []).append(
                            Finding(bound, dotted, node.lineno, cell_name))
                continue
            if _bound_names(node) and not owners:
                continue  # replaced later in the notebook
            collector = _UseCollector(resolver, forbidden, tensor_methods, top_level)
            collector.visit(node)
            findings_owner = owners or [f"<cell {cell_name}>"]
            for owner in findings_owner:
                found = [Finding(owner, name, line, cell_name) for name, line in collector.hits]
                if owners:
                    report.direct.setdefault(owner, []).extend(found)
                    report.refs.setdefault(owner, set()).update(collector.refs - {owner})
                else:
                    report.loose.extend(found)
    return report
