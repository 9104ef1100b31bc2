"""The runtime half of the forbidden-name rule: guards installed in the child.

Each assignment forbids the built-ins that do the graded job (``spec.Assignment.
forbidden``: a dotted name forbids itself and everything under it, plus tensor
methods such as ``x.sigmoid()``).  :func:`install_runtime_guard` replaces each
forbidden callable by a wrapper that raises :class:`ForbiddenCallError` when its
caller is student code (library code, e.g. ``nn.Linear`` calling ``F.linear``, is
unaffected), guards the constructors of forbidden classes, and refuses imports of
forbidden modules from student code once the imports cell has run.  The static
half, in the grader, is :mod:`autograder.intake.static_check`; both use
:func:`is_forbidden`.

Standard library only (see this folder's ``__init__``).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


def is_forbidden(dotted: str, forbidden: Iterable[str]) -> str | None:
    """The forbidden entry that covers ``dotted`` ("torch.nn.functional" covers its members)."""
    for entry in forbidden:
        if dotted == entry or dotted.startswith(entry + "."):
            return entry
    return None


# ============================================================================ static check


# ============================================================================ runtime guard
class ForbiddenCallError(Exception):
    """Raised in the child when student code calls or imports a forbidden built-in."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"`{name}` is forbidden in this assignment")


@dataclass
class RuntimeGuard:
    """State of the guard in the child: the hits since the last reset, and the import switch."""

    forbidden: tuple[str, ...]
    is_student_frame: Callable[[types.FrameType], bool]
    hits: list[str] = field(default_factory=list)
    block_imports: bool = False
    wrapped: int = 0
    # id -> name of every forbidden object (originals, private modules, C-level methods);
    # the objects themselves are kept so that their ids stay theirs.
    blocked: dict[int, str] = field(default_factory=dict)
    kept: list[Any] = field(default_factory=list)
    # The code of every forbidden Python function and method -> (name, function): the
    # implementation guard refuses torch work done inside one that student code called.
    codes: dict[types.CodeType, tuple[str, Any]] = field(default_factory=dict)
    # id of each wrapper -> the original it guards (the wrappers are kept alive in ``kept``).
    originals: dict[int, Any] = field(default_factory=dict)

    def record_code(self, function: Any, name: str) -> None:
        if isinstance(function, staticmethod | classmethod):
            function = function.__func__
        elif isinstance(function, property):
            function = function.fget
        if isinstance(function, types.FunctionType) \
                and not getattr(function, "__nntrain_guarded__", False):  # not our own wrappers
            self.codes.setdefault(function.__code__, (name, function))

    def block(self, obj: Any, name: str) -> None:
        if obj is not None and id(obj) not in self.blocked:
            self.blocked[id(obj)] = name
            self.kept.append(obj)

    def forbidden_object(self, value: Any) -> str | None:
        """The forbidden name ``value`` is (an original, a forbidden module), or None."""
        name = self.blocked.get(id(value))
        if name is None and isinstance(value, types.ModuleType):
            module = vars(value).get("__name__")
            name = is_forbidden(module, self.forbidden) if isinstance(module, str) else None
        return name

    def hit(self, name: str) -> ForbiddenCallError:
        self.hits.append(name)
        return ForbiddenCallError(name)

    def caller_is_student(self, depth: int = 2) -> bool:
        try:
            frame = sys._getframe(depth)
        except ValueError:
            return False
        return self.is_student_frame(frame)


def _resolve(dotted: str) -> Any:
    """Import the longest importable module prefix of ``dotted`` and walk the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj: Any = importlib.import_module(module_name)
        except Exception:  # a missing optional package is simply not guarded
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _guard_callable(guard: RuntimeGuard, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    if getattr(fn, "__nntrain_guarded__", False):
        return fn

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if guard.is_student_frame(sys._getframe(1)):
            raise guard.hit(name)
        return fn(*args, **kwargs)

    with contextlib.suppress(AttributeError, TypeError):
        functools.update_wrapper(guarded, fn)
    with contextlib.suppress(AttributeError):
        del guarded.__wrapped__  # no way back to the original through the wrapper
    guarded.__nntrain_guarded__ = True  # type: ignore[attr-defined]
    guard.wrapped += 1
    guard.block(fn, name)
    guard.record_code(fn, name)
    guard.originals[id(guarded)] = fn
    guard.kept.append(guarded)
    return guarded


def _guard_class(guard: RuntimeGuard, cls: type, name: str) -> None:
    for value in list(vars(cls).values()):
        guard.record_code(value, name)
    init = cls.__init__
    if getattr(init, "__nntrain_guarded__", False):
        return

    def guarded_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if guard.is_student_frame(sys._getframe(1)):
            raise guard.hit(name)
        init(self, *args, **kwargs)

    guarded_init.__nntrain_guarded__ = True  # type: ignore[attr-defined]
    try:
        cls.__init__ = guarded_init  # type: ignore[misc]
        guard.wrapped += 1
    except (AttributeError, TypeError):
        pass


def _guard_module(guard: RuntimeGuard, module: types.ModuleType, prefix: str,
                  package: str) -> None:
    for attr, value in list(vars(module).items()):
        if attr.startswith("__") or isinstance(value, types.ModuleType):
            continue
        name = f"{prefix}.{attr}"
        if isinstance(value, type):
            owner = getattr(value, "__module__", "") or ""
            if owner == package or owner.startswith(package + "."):
                _guard_class(guard, value, name)
        elif callable(value):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(module, attr, _guard_callable(guard, value, name))


def _block_implementations(guard: RuntimeGuard, forbidden: Sequence[str],
                           tensor_methods: Sequence[str]) -> None:
    """Record what implements a forbidden name under another name: the C-level functions
    (``torch._C._VariableFunctions.sigmoid``, ``torch._VF``), the tensor base class's methods
    (``torch._C.TensorBase.sigmoid``), the operator packets (``torch.ops.aten.sigmoid``) and
    the private modules already loaded.  A student frame that reaches one of them through
    ``getattr`` gets :class:`ForbiddenCallError` (the static check sees the spelled-out names)."""
    import torch

    base = getattr(torch._C, "TensorBase", None) or getattr(torch._C, "_TensorBase", None)
    functions = getattr(torch._C, "_VariableFunctions", None)
    for dotted in forbidden:
        module = sys.modules.get(dotted)
        if module is not None:
            guard.block(module, dotted)
        head, _, leaf = dotted.rpartition(".")
        if head == "torch" and leaf:
            for owner in (functions, torch._C._nn, getattr(torch, "_VF", None)):
                guard.block(getattr(owner, leaf, None), dotted)
            with contextlib.suppress(Exception):
                guard.block(getattr(torch.ops.aten, leaf.rstrip("_")), dotted)
    for method in tensor_methods:
        guard.block(getattr(base, method, None), f"Tensor.{method}")
    for name in ("ops", "_VF", "_C"):
        if is_forbidden(f"torch.{name}", forbidden):
            guard.block(getattr(torch, name, None), f"torch.{name}")


def _guard_getattr(guard: RuntimeGuard, student_builtins: dict[str, Any],
                   tampering: frozenset[str]) -> None:
    """The students' ``getattr``: a computed name may not reach past the guard."""
    real_getattr = builtins.getattr

    def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
        student = guard.is_student_frame(sys._getframe(1))
        if student and type(name) is str and name in tampering:
            raise guard.hit(f"the attribute {name}")
        value = real_getattr(obj, name, *default)
        if student:
            hit = guard.forbidden_object(value)
            if hit is not None:
                raise guard.hit(hit)
        return value

    student_builtins["getattr"] = guarded_getattr


def _guard_vars(guard: RuntimeGuard, student_builtins: dict[str, Any]) -> None:
    """The students' ``vars``: not of a module (its ``__dict__`` holds the module's
    ``__builtins__``, the interpreter's own getattr among them); their own objects are fine."""
    real_vars = builtins.vars

    def guarded_vars(*obj: Any) -> Any:
        if obj and isinstance(obj[0], types.ModuleType) \
                and guard.is_student_frame(sys._getframe(1)):
            raise guard.hit("the attribute __dict__")
        return real_vars(*obj) if obj else sys._getframe(1).f_locals

    student_builtins["vars"] = guarded_vars


def install_runtime_guard(forbidden: Sequence[str], tensor_methods: Sequence[str],
                          is_student_frame: Callable[[types.FrameType], bool],
                          student_builtins: dict[str, Any],
                          tampering: Sequence[str] = (),
                          refused_modules: Sequence[str] = ()) -> RuntimeGuard:
    """Wrap the forbidden callables reachable in this process (call once, in the child).

    Private modules (a component starting with "_", e.g. ``torch._C``) are left to
    the static check: wrapping torch's internals would slow down or break torch
    itself.  ``student_builtins`` is the builtins dict of the students' namespace;
    its ``__import__`` is replaced by one that refuses forbidden modules once
    :attr:`RuntimeGuard.block_imports` is set.
    """
    import torch

    guard = RuntimeGuard(tuple(forbidden), is_student_frame)
    # Modules not loaded yet stay so: student code can only reach them by an import, which
    # the import guard refuses (wrapping them would mean importing asyncio in every child).
    public = [d for d in forbidden if not any(part.startswith("_") for part in d.split("."))
              and (d.split(".")[0] in sys.modules or d.startswith("torch."))]
    resolved = [(dotted, _resolve(dotted)) for dotted in public]
    # Named functions and classes first, then whole modules (shallow ones first), so that
    # messages use the name the student wrote (torch.nn.Sigmoid, torch.optim.SGD).
    resolved.sort(key=lambda item: (isinstance(item[1], types.ModuleType), item[0].count(".")))
    for dotted, obj in resolved:
        if obj is None:
            continue
        if not isinstance(obj, types.ModuleType):
            # A computed getattr may not return it either: a C type whose __init__ cannot be
            # guarded (operator.attrgetter, types.FunctionType) is refused only there.
            guard.block(obj, dotted)
        if isinstance(obj, types.ModuleType):
            modules = sorted((name, module) for name, module in list(sys.modules.items())
                             if module is not None and (name == obj.__name__
                                                        or name.startswith(obj.__name__ + ".")))
            for module_name, module in sorted(modules, key=lambda item: item[0].count(".")):
                prefix = dotted + module_name[len(obj.__name__):]
                _guard_module(guard, module, prefix, obj.__name__)
        elif isinstance(obj, type):
            _guard_class(guard, obj, dotted)
        elif callable(obj):
            parent_name, _, attr = dotted.rpartition(".")
            parent = _resolve(parent_name)
            if parent is not None:
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(parent, attr, _guard_callable(guard, obj, dotted))
    for method in tensor_methods:
        original = getattr(torch.Tensor, method, None)
        if original is not None:
            setattr(torch.Tensor, method,
                    _guard_callable(guard, original, f"Tensor.{method}"))
    _block_implementations(guard, forbidden, tensor_methods)
    for name in ("compile", "exec", "eval", "breakpoint"):
        if is_forbidden(f"builtins.{name}", forbidden):  # the students' copy of builtins too
            student_builtins[name] = getattr(builtins, name)
    _guard_getattr(guard, student_builtins, frozenset(tampering))
    _guard_vars(guard, student_builtins)

    real_import = builtins.__import__
    refused = frozenset(refused_modules)

    def guarded_import(name: str, globals: Any = None, locals: Any = None,
                       fromlist: Sequence[str] | None = (), level: int = 0) -> Any:
        if level == 0 and name.split(".")[0] in refused:  # in every cell, the imports cell too
            raise guard.hit(f"the module {name.split('.')[0]}")
        if guard.block_imports and level == 0:
            targets = [name, *(f"{name}.{item}" for item in (fromlist or ()) if item != "*")]
            for target in targets:
                if is_forbidden(target, guard.forbidden):
                    raise guard.hit(target)
        return real_import(name, globals, locals, fromlist, level)

    student_builtins["__import__"] = guarded_import

    real_import_module = importlib.import_module

    def guarded_import_module(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in refused and guard.caller_is_student():
            raise guard.hit(f"the module {name.split('.')[0]}")
        if (guard.block_imports and guard.caller_is_student()
                and is_forbidden(name, guard.forbidden)):
            raise guard.hit(name)
        return real_import_module(name, package)

    importlib.import_module = guarded_import_module  # type: ignore[assignment]
    return guard
