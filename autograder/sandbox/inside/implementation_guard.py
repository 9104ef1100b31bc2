"""The forbidden-name rule at torch's dispatch: whatever route student code took to a function.

The wrappers of :mod:`runtime_guard` sit on the public names (``torch.sigmoid``,
``torch.nn.functional.silu``); a reference to the implementation behind them, obtained by a
route the guard does not see, would skip them.  Every torch function dispatches through the
active ``TorchFunctionMode`` (``torch.overrides``) however it was reached: the public name, the
C function under ``torch._C._VariableFunctions``, the tensor base class's method, the operator
packet ``torch.ops.aten.*``.  :class:`ImplementationGuard` is such a mode, entered only while
student code runs; it names each function it sees with ``torch.overrides.resolve_name`` and
refuses a forbidden one when

* student code calls it directly (the first frame above the dispatch machinery is student
  code, or is the forbidden function's own Python frame called by student code), or
* student code *handed it* to library code that calls what it is given (``torch.vmap(f)``,
  ``torch.func.grad(f)``, a hook): a library frame between the call and the nearest student
  frame holds the function (or a ``functools.partial`` or bound method of it) in its locals.

Library code that uses a forbidden function for its own work (``nn.Linear`` calling
``F.linear``) holds no such reference and is left alone, as the public wrappers leave it.
A function ``resolve_name`` cannot name is never refused (no accusation without a name).

Standard library and torch only: the child loads this module by file path, before the zygote
imports torch, so torch is imported where the mode is made (:func:`implementation_guard`).
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

# Frames of torch's dispatch machinery between the caller and the mode.
_DISPATCH_FILES = ("torch/overrides.py", "torch/utils/_python_dispatch.py", "torch/_ops.py")
_OWN_FILES = frozenset(os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
                       for name in ("runtime_guard.py", "implementation_guard.py"))
_MAX_FRAMES = 64  # how far up the stack the handed-in search looks for the student's call


def _is_dispatch(frame: types.FrameType) -> bool:
    return frame.f_code.co_filename.replace("\\", "/").endswith(_DISPATCH_FILES)


def implementation_guard(forbidden_name: Callable[[str], str | None],
                         tensor_methods: Sequence[str], is_student_frame: Callable[[Any], bool],
                         hit: Callable[[str], BaseException],
                         codes: dict[Any, tuple[str, Any]] | None = None) -> Any:
    """The mode (enter it with ``with``) for one child's forbidden names and student test.

    ``codes`` maps the code of each forbidden Python function or method to its name and the
    function (``RuntimeGuard.codes``): torch work done inside one of them is refused when
    student code called it, directly or by handing it to library code."""
    from torch.overrides import TorchFunctionMode, resolve_name

    class ImplementationGuard(TorchFunctionMode):
        """A torch function mode that refuses forbidden torch functions called by student code."""

        def __init__(self, forbidden_name: Callable[[str], str | None],
                     tensor_methods: Sequence[str], is_student_frame: Callable[[Any], bool],
                     hit: Callable[[str], BaseException],
                     codes: dict[Any, tuple[str, Any]]) -> None:
            super().__init__()
            self._codes = codes
            self._forbidden_name = forbidden_name
            self._tensor_methods = frozenset(tensor_methods)
            self._is_student_frame = is_student_frame
            self._hit = hit
            self._names: dict[int, str | None] = {}  # id(func) -> forbidden name or None
            self._keep: list[Any] = []  # the funcs of _names, so that their ids stay theirs

        def forbidden(self, func: Any) -> str | None:
            """The forbidden name ``func`` implements in this assignment, or None (cached)."""
            key = id(func)
            if key in self._names:
                return self._names[key]
            try:
                name = resolve_name(_unwrapped(func))
            except Exception:  # an object torch cannot name is not refused
                name = None
            found = None
            if isinstance(name, str):
                if name.startswith("aten."):  # an operator packet: torch.ops.aten.sigmoid
                    found = self._forbidden_name("torch.ops." + name)
                elif name.startswith("torch.Tensor."):
                    method = name[len("torch.Tensor."):]
                    found = f"Tensor.{method}" if method in self._tensor_methods else None
                else:
                    found = self._forbidden_name(name)
            self._names[key] = found
            self._keep.append(func)
            return found

        def __torch_function__(self, func: Any, types: Any, args: Sequence[Any] = (),
                               kwargs: dict[str, Any] | None = None) -> Any:
            name = self.forbidden(func)
            caller = sys._getframe(1)
            if name is not None and self._called_for_student(func, _unwrapped(func), caller):
                raise self._hit(name)
            inside = self._inside_forbidden(caller) if self._codes else None
            if inside is not None:
                raise self._hit(inside)
            return func(*args, **(kwargs or {}))

        def _inside_forbidden(self, frame: types.FrameType | None) -> str | None:
            """The forbidden Python function this torch call runs inside, when student code
            called that function (directly, or by handing it to library code), else None."""
            library = []
            while frame is not None and not self._is_student_frame(frame):
                if len(library) >= _MAX_FRAMES:
                    return None
                library.append(frame)
                frame = frame.f_back
            if frame is None:
                return None  # no student call on the stack: the grader's own work
            for index, lib in enumerate(library):
                entry = self._codes.get(lib.f_code)
                if entry is None:
                    continue
                name, function = entry
                above = library[index + 1:]
                if not above:
                    return name  # student code called the forbidden function itself
                if any(_holds(value, function) for upper in above
                       if upper.f_code.co_filename not in _OWN_FILES
                       for value in upper.f_locals.values()):
                    return name
            return None

        def _called_for_student(self, func: Any, original: Any,
                                frame: types.FrameType | None) -> bool:
            while frame is not None and _is_dispatch(frame):
                frame = frame.f_back
            if frame is None:
                return False
            if self._is_student_frame(frame):
                return True
            code = getattr(original, "__code__", None)
            if code is not None and frame.f_code is code and frame.f_back is not None \
                    and self._is_student_frame(frame.f_back):
                return True  # the forbidden Python function itself, called by student code
            library = []
            while frame is not None and len(library) < _MAX_FRAMES \
                    and not self._is_student_frame(frame):
                library.append(frame)
                frame = frame.f_back
            if frame is None or len(library) >= _MAX_FRAMES:
                return False  # no student call on the stack: the grader's own work
            # The guard's own wrappers hold the original (their ``fn``) by design: not handed in.
            return any(_holds(value, func) or _holds(value, original)
                       for lib in library if lib.f_code.co_filename not in _OWN_FILES
                       for value in lib.f_locals.values())

    return ImplementationGuard(forbidden_name, tensor_methods, is_student_frame, hit, codes or {})


def prepare() -> None:
    """Build torch's table of overridable functions now, in the zygote, from the original
    functions (the child's guard later replaces the public names by wrappers)."""
    import torch
    from torch.overrides import resolve_name

    resolve_name(torch.exp)


def _unwrapped(func: Any) -> Any:
    """The original behind a :mod:`runtime_guard` wrapper (its closure's ``fn``), else func."""
    if isinstance(func, types.FunctionType) and getattr(func, "__nntrain_guarded__", False):
        for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
            if name == "fn" and _filled(cell):
                return cell.cell_contents
    return func


def _holds(value: Any, func: Any, depth: int = 0) -> bool:
    """Whether ``value`` is ``func`` or wraps it: a partial, a bound method, a guard wrapper,
    or a short tuple or list of them."""
    if value is func:
        return True
    if depth > 2:
        return False
    if isinstance(value, functools.partial):
        return _holds(value.func, func, depth + 1)
    if isinstance(value, types.MethodType):
        return _holds(value.__func__, func, depth + 1)
    if isinstance(value, types.FunctionType) and getattr(value, "__nntrain_guarded__", False):
        cells = value.__closure__ or ()
        return any(_holds(cell.cell_contents, func, depth + 1) for cell in cells
                   if _filled(cell))
    if isinstance(value, tuple | list) and len(value) <= 16:
        return any(_holds(item, func, depth + 1) for item in value)
    return False


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True
