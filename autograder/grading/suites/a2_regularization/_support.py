"""Helpers private to the a2 suite: tolerances per dtype and messages that name the call.

A message says which call failed (function, argument shapes and dtypes, the hyperparameters
that matter), what was expected and what came back, without printing the hidden inputs.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.grading.checks import describe

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
