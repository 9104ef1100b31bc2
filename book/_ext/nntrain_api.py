"""The API reference (``book/api/``): the ``nntrain`` of this source tree, documented.

``sphinx.ext.autodoc`` imports the modules it documents.  An ``nntrain`` installed elsewhere (a
stale wheel in site-packages, another clone on ``PYTHONPATH``) would silently document other
code than the code the chapters ran, so this extension puts ``<repository>/src`` first on
``sys.path`` and fails the build (a warning, an error under ``-W``) if ``nntrain`` still comes from
somewhere else.

It also makes autodoc document what a reader of the chapters looks up:

* module-level *instances* (``nntrain.optim.rosenbrock``, a ``TestFunction``) with their value
  only: their ``__doc__`` is their class's docstring, which would be repeated under every instance;
* a short name in a docstring (``:func:`fit``` in ``nntrain.ensembles``, ``:func:`fancy_pca```
  in ``nntrain.augment.colour``, whose public home is the package) links to the one documented
  ``nntrain`` object of that name; an ambiguous or unknown name stays a warning;
* a module's type alias in a signature (``Pair = int | tuple[int, int]``) is shown as text;
* the ``nntrain-submodules`` directive lists a package's public submodules (their docstrings and
  ``:mod:`` targets), found with ``pkgutil``, so a package that gains a submodule stays documented.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import types
import typing
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parents[2] / "src"


def use_source_tree() -> Path:
    """Put ``src/`` first on ``sys.path`` and return the directory ``nntrain`` is imported from."""
    if str(SOURCE) not in sys.path:
        sys.path.insert(0, str(SOURCE))
    importlib.invalidate_caches()
    module = importlib.import_module("nntrain")
    return Path(module.__file__).resolve().parent


def _check(app: Sphinx) -> None:
    found = use_source_tree()
    if found != SOURCE / "nntrain":
        logger.warning(f"nntrain is imported from {found}, not from {SOURCE / 'nntrain'}: "
                       "the API reference would document other code than the chapters ran")


def iter_modules(package: str, recursive: bool = False) -> list[str]:
    """The public (no leading underscore) submodules of ``package``, sorted by name."""
    found = []
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        if info.name.rsplit(".", 1)[1].startswith("_"):
            continue
        found.append(info.name)
        if recursive and info.ispkg:
            found.extend(iter_modules(info.name, recursive=True))
    return sorted(found)


def is_documented_instance(obj: Any) -> bool:
    """True for an object whose only docstring is its class's (an instance, not a definition)."""
    return (
        not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))
        and getattr(obj, "__doc__", None) is not None
        and obj.__doc__ == getattr(type(obj), "__doc__", None)
    )


def _drop_class_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                          lines: list[str]) -> None:
    if what == "data" and is_documented_instance(obj):
        lines.clear()


def unique_suffix_match(target: str, names: list[str]) -> str | None:
    """The one name among ``names`` that is ``target`` or ends with ``.target``, else None."""
    matches = [n for n in names if n == target or n.endswith(f".{target}")]
    return matches[0] if len(matches) == 1 else None


def is_type_alias(module: str, name: str) -> bool:
    """True if ``module.name`` is a type alias (``Pair = int | tuple[int, int]``)."""
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    return isinstance(value, types.UnionType | types.GenericAlias | typing._GenericAlias)


def _resolve_short_name(app: Sphinx, env: Any, node: Any, contnode: nodes.Node) -> Any:
    module = str(node.get("py:module") or "")
    if node.get("refdomain") != "py" or not module.startswith("nntrain"):
        return None
    domain = env.get_domain("py")
    target = node["reftarget"].lstrip(".~")
    if node.get("reftype") == "class" and is_type_alias(module, target):
        return contnode  # a module's private alias in a signature: its text, no link
    kinds = {"func": {"function"}, "class": {"class", "exception"}, "meth": {"method"},
             "mod": {"module"}, "data": {"data"}, "attr": {"attribute", "property"}}
    wanted = kinds.get(node.get("reftype"), set())
    documented = [n for n, o in domain.objects.items()
                  if n.startswith("nntrain.") and (not wanted or o.objtype in wanted)]
    name = unique_suffix_match(target, documented)
    if name is None:
        return None
    obj = domain.objects[name]
    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, name)


class Submodules(SphinxDirective):
    """``.. nntrain-submodules:: nntrain.augment``: an automodule entry per public submodule."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        text = StringList()
        for module in iter_modules(self.arguments[0]):
            for line in (f".. automodule:: {module}", ""):
                text.append(line, "<nntrain-submodules>")
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, text, node)
        return node.children


def setup(app: Sphinx) -> dict[str, Any]:
    use_source_tree()  # before autodoc imports anything
    app.connect("builder-inited", _check)
    # before napoleon (priority 500), which would parse the class docstring as the data's type
    app.connect("autodoc-process-docstring", _drop_class_docstring, priority=400)
    app.add_directive("nntrain-submodules", Submodules)
    app.connect("missing-reference", _resolve_short_name)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
