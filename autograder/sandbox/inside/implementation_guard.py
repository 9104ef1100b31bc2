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
  code), or
* student code *handed it* to library code that calls what it is given (``torch.vmap(f)``,
  ``torch.func.grad(f)``, a hook): a library frame between the call and the nearest student
  frame holds the function (or a ``functools.partial`` or bound method of it) in its locals.

The same walk refuses torch work done *inside* a forbidden Python function or method (its code
object is in ``RuntimeGuard.codes``) that student code called directly or handed over: the
original behind a wrapper, however it was fetched, cannot do the graded job either.

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
from collections.abc import Sequence
from typing import Any

from .runtime_guard import RuntimeGuard, is_forbidden

# Frames of torch's dispatch machinery between the caller and the mode.
_DISPATCH_FILES = ("torch/overrides.py", "torch/utils/_python_dispatch.py", "torch/_ops.py")
# The guard's own wrappers hold the original (their ``fn``) by design: never "handed in".
_OWN_FILES = frozenset(os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
                       for name in ("runtime_guard.py", "implementation_guard.py"))
_MAX_FRAMES = 64  # how far up the stack the walk looks for the student's call


def _is_dispatch(frame: types.FrameType) -> bool:
    return frame.f_code.co_filename.replace("\\", "/").endswith(_DISPATCH_FILES)


def implementation_guard(guard: RuntimeGuard, tensor_methods: Sequence[str]) -> Any:
    """The mode (enter it with ``with``) for one child's runtime guard: its forbidden names,
    its student test, its hits, its wrappers' originals and their code objects."""
    from torch.overrides import TorchFunctionMode, resolve_name

    class ImplementationGuard(TorchFunctionMode):
        """A torch function mode that refuses forbidden torch functions called by student code."""

        def __init__(self) -> None:
            super().__init__()
            self._tensor_methods = frozenset(tensor_methods)
            self._names: dict[int, str | None] = {}  # id(func) -> forbidden name or None
            self._keep: list[Any] = []  # the funcs of _names, so that their ids stay theirs

        def forbidden(self, func: Any) -> str | None:
            """The forbidden name ``func`` implements in this assignment, or None (cached)."""
            key = id(func)
            if key in self._names:
                return self._names[key]
            try:
                name = resolve_name(guard.originals.get(id(func), func))
            except Exception:  # an object torch cannot name is not refused
                name = None
            found = None
            if isinstance(name, str):
                if name.startswith("aten."):  # an operator packet: torch.ops.aten.sigmoid
                    name = "torch.ops." + name
                if name.startswith("torch.Tensor."):
                    method = name[len("torch.Tensor."):]
                    found = f"Tensor.{method}" if method in self._tensor_methods else None
                elif is_forbidden(name, guard.forbidden):
                    found = name
            self._names[key] = found
            self._keep.append(func)
            return found

        def __torch_function__(self, func: Any, types: Any, args: Sequence[Any] = (),
                               kwargs: dict[str, Any] | None = None) -> Any:
            frames = self._library_frames(sys._getframe(1))
            if frames is not None:
                name = self._refused(func, frames)
                if name is not None:
                    raise guard.hit(name)
            return func(*args, **(kwargs or {}))

        def _library_frames(self, frame: types.FrameType | None) -> list[types.FrameType] | None:
            """The frames between this call and the nearest student frame, innermost first;
            None when no student code is on the stack (the grader's own work)."""
            frames = []
            while frame is not None and not guard.is_student_frame(frame):
                if len(frames) >= _MAX_FRAMES:
                    return None
                frames.append(frame)
                frame = frame.f_back
            return None if frame is None else frames

        def _refused(self, func: Any, frames: list[types.FrameType]) -> str | None:
            """The forbidden name this call does the work of for student code, or None."""
            name = self.forbidden(func)
            if name is not None:
                callers = [f for f in frames if not _is_dispatch(f)]
                if not callers or _handed_in(callers, func, guard.originals):
                    return name
            for index, frame in enumerate(frames):  # inside a forbidden Python function?
                entry = guard.codes.get(frame.f_code)
                if entry is not None and (index == len(frames) - 1 or _handed_in(
                        frames[index + 1:], entry[1], guard.originals)):
                    return entry[0]
            return None

    return ImplementationGuard()


def prepare() -> None:
    """Build torch's table of overridable functions now, in the zygote, from the original
    functions (the child's guard later replaces the public names by wrappers)."""
    import torch
    from torch.overrides import resolve_name

    resolve_name(torch.exp)


def _handed_in(frames: list[types.FrameType], func: Any, originals: dict[int, Any]) -> bool:
    """Whether a library frame (not the dispatch machinery, not the guard's own) holds
    ``func``, or the original behind it, in its locals: student code handed it over."""
    targets = (func, originals.get(id(func), func))
    return any(_holds(value, targets, originals) for frame in frames
               if frame.f_code.co_filename not in _OWN_FILES and not _is_dispatch(frame)
               for value in frame.f_locals.values())


def _holds(value: Any, targets: tuple[Any, ...], originals: dict[int, Any],
           depth: int = 0) -> bool:
    """Whether ``value`` is one of ``targets`` or wraps one: a guard wrapper, a partial, a bound
    method, or a short tuple or list of them."""
    if any(value is target for target in targets):
        return True
    if depth > 2:
        return False
    inner: list[Any] = []
    if id(value) in originals:
        inner = [originals[id(value)]]
    elif isinstance(value, functools.partial):
        inner = [value.func]
    elif isinstance(value, types.MethodType):
        inner = [value.__func__]
    elif isinstance(value, tuple | list) and len(value) <= 16:
        inner = list(value)
    return any(_holds(item, targets, originals, depth + 1) for item in inner)
