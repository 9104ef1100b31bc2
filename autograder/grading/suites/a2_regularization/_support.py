"""Helpers private to the a2 suite: tolerances per dtype and messages that name the call.

A message says which call failed (function, argument shapes and dtypes, the hyperparameters
that matter), what was expected and what came back, without printing the hidden inputs.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.grading.checks import as_number, describe

# Relative error a correct computation leaves in each dtype: a few units in the last place.
RTOL = {torch.float64: 1e-12, torch.float32: 1e-6, torch.float16: 4e-3, torch.bfloat16: 3e-2}
HALF_DTYPES = (torch.float16, torch.bfloat16)


def call_text(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(a float32 tensor of shape (4, 5), p=0.5)``: tensors by dtype and shape only."""
    def show(value: Any) -> str:
        if isinstance(value, torch.Tensor):
            return describe(value).removeprefix("a ")
        if isinstance(value, float):
            return f"{value:g}"
        return repr(value)

    shown = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def calling(call: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an exception of the student's code names the call."""
    from autograder.errors import StudentError

    try:
        return function(*args, **kwargs)
    except StudentError as error:
        raise AssertionError(f"{call} raised {error.type_name}: {error.message}"[:500]) from None


def check_scalar(actual: Any, expected: float, call: str, *, rtol: float, atol: float) -> float:
    """``actual`` (a number or a one-element tensor) is finite and within tolerance of expected."""
    value = as_number(actual, f"{call}'s result")
    if not math.isfinite(value):
        raise AssertionError(f"{call} returned {value}, expected {expected:.10g}")
    if abs(value - expected) > atol + rtol * abs(expected):
        raise AssertionError(f"{call} returned {value:.10g}, expected {expected:.10g}")
    return value
