"""The layout of the package nntrain.augment (one module per topic): every name of the former
single module ``nntrain/augment.py`` is still importable from ``nntrain.augment``, ``__all__``
lists exactly the public names, and the topic modules import each other without a cycle."""

from __future__ import annotations

import ast
import graphlib
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import nntrain.augment as A

# The public names of the former single module nntrain/augment.py (its __all__), which the book
# chapters, the tests and the assignments use as ``A.<name>`` or ``from nntrain.augment import``.
OLD_PUBLIC_NAMES = [
    "hflip", "random_hflip", "resize", "crop_resize", "random_crop", "random_resized_crop",
    "scale_jitter", "center_crop", "five_crop", "ten_crop", "tta_predict", "rotate", "shear",
    "translate", "grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation",
    "adjust_hue", "color_jitter", "rgb_pca", "fancy_pca", "autocontrast", "equalize", "solarize",
    "posterize", "adjust_sharpness", "MAX_MAGNITUDE", "RAND_AUGMENT_OPS", "rand_augment",
    "RandAugment", "cutout", "random_erasing", "mixup", "cutmix", "label_smoothing",
    "smoothed_cross_entropy", "BatchTransformLoader",
]
# Names the package re-exports from another nntrain module rather than defines.
REEXPORTED = {"label_smoothing": "nntrain.regularization",
              "smoothed_cross_entropy": "nntrain.regularization"}
PACKAGE_DIR = Path(A.__file__).parent
LINE_LIMIT = 400


def submodules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]))


def public_names(module) -> set[str]:
    """Names not starting with ``_`` bound in ``module``, submodules left out."""
    return {name for name, value in vars(module).items()
            if not name.startswith("_") and not inspect.ismodule(value)}


@pytest.mark.parametrize("name", OLD_PUBLIC_NAMES)
def test_every_old_public_name_is_importable_from_the_package(name):
    namespace: dict = {}
    exec(f"from nntrain.augment import {name}", namespace)  # the book's import form
    assert namespace[name] is getattr(A, name), f"A.{name} is not the imported {name}"


def test_all_lists_exactly_the_public_names():
    assert len(A.__all__) == len(set(A.__all__)), f"duplicates in __all__: {A.__all__}"
    missing_old = sorted(set(OLD_PUBLIC_NAMES) - set(A.__all__))
    assert not missing_old, f"names of the old module missing from __all__: {missing_old}"
    public = public_names(A)
    assert set(A.__all__) == public, (
        f"__all__ lacks {sorted(public - set(A.__all__))} and lists names that are not bound "
        f"in the package: {sorted(set(A.__all__) - public)}"
    )


def test_package_all_is_the_union_of_the_topic_modules_all():
    seen: dict[str, str] = {}
    for short in submodules():
        module = importlib.import_module(f"nntrain.augment.{short}")
        if short.startswith("_"):
            assert not hasattr(module, "__all__"), f"private module {short} declares __all__"
            continue
        for name in module.__all__:
            assert name not in seen, f"{name} is in the __all__ of both {seen[name]} and {short}"
            seen[name] = short
            obj = getattr(module, name)
            assert getattr(A, name) is obj, f"A.{name} is not {short}.{name}"
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert obj.__module__ == module.__name__, (
                    f"{short}.__all__ lists {name}, defined in {obj.__module__}")
    for name, home in REEXPORTED.items():
        assert getattr(A, name) is getattr(importlib.import_module(home), name)
    assert set(A.__all__) == set(seen) | set(REEXPORTED), (
        f"in __all__ but no topic module's: {sorted(set(A.__all__) - set(seen) - set(REEXPORTED))}"
        f"; in a topic module's but not the package's: {sorted(set(seen) - set(A.__all__))}"
    )


def imports_within_the_package(path: Path) -> set[str]:
    """Short names of the ``nntrain.augment`` modules that the module at ``path`` imports
    (``"__init__"`` for the package itself)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: ``from . import x`` or ``from .x import y``
                found |= {node.module} if node.module else {a.name for a in node.names}
                continue
            modules = [node.module or ""]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        for module in modules:
            if module == "nntrain.augment":
                found.add("__init__")
            elif module.startswith("nntrain.augment."):
                found.add(module.split(".")[2])
    return found


def test_topic_modules_import_each_other_without_a_cycle():
    graph = {short: imports_within_the_package(PACKAGE_DIR / f"{short}.py")
             for short in submodules()}
    into_package = sorted(short for short, deps in graph.items() if "__init__" in deps)
    assert not into_package, f"these modules import the package itself: {into_package}"
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f"import cycle between nntrain.augment modules: {err.args[1]}")
    assert set(order) == set(graph)


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_at_most_the_line_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LINE_LIMIT, f"{path.name} has {lines} lines, more than {LINE_LIMIT}"
