"""Helpers private to the a3 suite: messages that name the call, the state's purity check.

What both suites share (``calling``, ``check_scalar``) lives in autograder/grading/checks.py,
which every suite's resume-key digest includes.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.grading.checks import describe, tensors_changed
from autograder.sandbox.handles import tensors_in


def show(value: Any) -> str:
    """A value for a message: a tensor by dtype and shape only, a float in short form."""
    if isinstance(value, torch.Tensor):
        return describe(value).removeprefix("a ")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return f"state with keys {sorted(map(str, value))}" if value else "{}"
    if isinstance(value, list | tuple) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    return repr(value)


def call_text(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(a float64 tensor of shape (3, 4), lr=0.1)``."""
    shown = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def check_state_untouched(info: Any, state: dict, call: str) -> None:
    """No tensor of the state dict the rule received (argument 2) was modified in place.

    The contract (the a3 notebook): the rule may return the dict it received, changed, or a new
    one, and may store new tensors under its keys; it must not write into a tensor it received.
    ``info.received_after`` holds those very tensors after the call, so a rebound key is no
    write, and a write through a view of a received tensor is one.
    """
    offset = len(tensors_in(list(info.args_after[:2])))
    items = state.items() if isinstance(state, dict) else [("...", state)]
    for key, value in items:
        count = len(tensors_in(value))
        after = info.received_after[offset:offset + count]
        offset += count
        if count and tensors_changed(value, after):
            raise AssertionError(
                f"{call} modified in place the tensor state[{key!r}] it received; compute "
                "the new value in a new tensor and store that in the returned state instead"
            )
