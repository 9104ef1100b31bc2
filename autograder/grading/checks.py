"""Assertion helpers shared by the hidden suites: checks with short, student-facing messages.

Every helper raises ``AssertionError`` with one sentence that says *what* is wrong ("sigmoid
returns nan for 2 of 10 inputs, e.g. at x = -1e+04") and, where it helps, *where* (an input
value), but never prints the hidden expected values wholesale.  The grader reports the message
of the assertion, not pytest's diff, so the message is all the student sees.

The oracles themselves (torch in float64, exact properties where torch has none) live in the suites;
these helpers only compare.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch


def describe(value: Any) -> str:
    """A short description of a value for a message: a tensor's dtype and shape, else its type."""
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def check_tensor(
    actual: Any,
    what: str,
    *,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Assert that ``actual`` is a tensor with the given shape, dtype and device; return it."""
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"{what} should be a torch.Tensor, got {describe(actual)}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        raise AssertionError(
            f"{what} has shape {tuple(actual.shape)}, expected shape {tuple(shape)}"
        )
    if dtype is not None and actual.dtype != dtype:
        raise AssertionError(
            f"{what} has dtype {actual.dtype}, expected {dtype} (keep the input's dtype)"
        )
    if device is not None and actual.device.type != torch.device(device).type:
        raise AssertionError(
            f"{what} is on device {actual.device}, expected {device} (keep the input's device)"
        )
    return actual


def check_close(
    actual: Any,
    expected: torch.Tensor,
    what: str,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    inputs: torch.Tensor | None = None,
    input_name: str = "x",
) -> None:
    """Assert that ``actual`` equals ``expected`` elementwise within ``atol + rtol * |expected|``.

    The shape must match.  Values are compared in float64 on the CPU.  A failure names how many
    values are off, whether some are nan/inf, the largest error and, when ``inputs`` (the
    elementwise input) is given, the input value where the error is largest.
    """
    actual = check_tensor(actual, what, shape=expected.shape)
    if actual.is_complex() or expected.is_complex():
        raise AssertionError(f"{what} should be real, got {describe(actual)}")
    got = actual.detach().to("cpu", torch.float64).reshape(-1)
    want = expected.detach().to("cpu", torch.float64).reshape(-1)
    where = None if inputs is None else inputs.detach().to("cpu", torch.float64).reshape(-1)

    def at(index: int) -> str:
        if where is None or where.numel() != got.numel():
            return ""
        return f", e.g. at {input_name} = {_fmt(where[index].item())}"

    bad_finite = ~torch.isfinite(got) & torch.isfinite(want)
    if bool(bad_finite.any()):
        kinds = "nan" if bool(torch.isnan(got[bad_finite]).all()) else "inf/nan"
        first = int(bad_finite.nonzero()[0])
        raise AssertionError(
            f"{what} contains {kinds} for {int(bad_finite.sum())} of {got.numel()} values"
            f"{at(first)} (use a numerically stable formula)"
        )
    same_special = (got == want) | (torch.isnan(got) & torch.isnan(want))
    error = (got - want).abs()
    error = torch.where(same_special, torch.zeros_like(error), error)
    bad = (error > atol + rtol * want.abs()) | (~same_special & ~torch.isfinite(want))
    if bool(bad.any()):
        worst = int(torch.where(bad, error, torch.full_like(error, -1.0)).argmax())
        raise AssertionError(
            f"{what} is wrong for {int(bad.sum())} of {got.numel()} values "
            f"(largest error {_fmt(error[worst].item())}{at(worst)})"
        )


def check_all_finite(actual: Any, what: str, *, inputs: torch.Tensor | None = None) -> None:
    """Assert that a tensor holds no nan or inf."""
    actual = check_tensor(actual, what)
    got = actual.detach().to("cpu", torch.float64).reshape(-1)
    bad = ~torch.isfinite(got)
    if bool(bad.any()):
        where = ""
        if inputs is not None and inputs.numel() == got.numel():
            first = int(bad.nonzero()[0])
            where = f", e.g. at x = {_fmt(inputs.reshape(-1)[first].item())}"
        raise AssertionError(
            f"{what} contains inf or nan for {int(bad.sum())} of {got.numel()} values{where}"
            " (use a numerically stable formula)"
        )


def check_number(actual: Any, expected: float, what: str, *, rtol: float = 1e-9,
                 atol: float = 1e-12) -> float:
    """Assert that ``actual`` (a Python number or a one-element tensor) equals ``expected``."""
    value = as_number(actual, what)
    if not math.isfinite(value) and not (math.isinf(expected) and value == expected):
        raise AssertionError(f"{what} is {value}, expected a finite number")
    if abs(value - expected) > atol + rtol * abs(expected):
        raise AssertionError(f"{what} is {value:.10g}, which is wrong")
    return value


def as_number(actual: Any, what: str) -> float:
    """Return ``actual`` as a float: a Python int/float or a tensor with exactly one element."""
    if isinstance(actual, bool):
        raise AssertionError(f"{what} should be a number, got a bool")
    if isinstance(actual, int | float):
        return float(actual)
    if isinstance(actual, torch.Tensor):
        if actual.numel() != 1:
            raise AssertionError(
                f"{what} should be one number, got a tensor of shape {tuple(actual.shape)}"
            )
        if actual.is_complex():
            raise AssertionError(f"{what} should be a real number, got a complex tensor")
        return float(actual.detach().to("cpu", torch.float64).reshape(()).item())
    raise AssertionError(f"{what} should be a number, got {describe(actual)}")


def check_unmodified(info: Any, what: str, arg_names: Sequence[str]) -> None:
    """Assert that a call (a ``student.call`` result) changed none of the named arguments.

    ``arg_names`` names the positional arguments to watch, in order; the same names count as
    keyword arguments.  Other arguments (an optimiser's state) may change.
    """
    watched = set(range(len(arg_names))) | set(arg_names)
    changed = sorted((key for key in info.modified if key in watched), key=str)
    if changed:
        names = [arg_names[i] if isinstance(i, int) and i < len(arg_names) else str(i)
                 for i in changed]
        raise AssertionError(
            f"{what} modified its input {', '.join(names)} in place; "
            "compute the result in a new tensor instead"
        )


def tensors_changed(before: Any, after: Any) -> bool:
    """Whether a tensor found at the same place in both trees (dicts, lists, tuples) changed.

    Keys or items added or removed do not count: a rule may rebuild its state dict, it may not
    write into the tensors it was given.
    """
    if isinstance(before, torch.Tensor):
        return (isinstance(after, torch.Tensor) and before.shape == after.shape
                and before.dtype == after.dtype
                and not torch.equal(before, after.to(before.device)))
    if isinstance(before, dict) and isinstance(after, dict):
        return any(tensors_changed(before[k], after[k]) for k in before.keys() & after.keys())
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        return any(tensors_changed(b, a) for b, a in zip(before, after, strict=False))
    return False


def check_raises(call: Callable[[], Any], error: str, what: str) -> None:
    """Assert that ``call()`` makes the student's code raise the exception named ``error``.

    Exceptions of the sandbox itself (timeouts, crashes, forbidden calls) propagate, so the
    student sees those messages instead.
    """
    from autograder.errors import StudentError

    try:
        result = call()
    except StudentError as raised:
        names = set(getattr(raised, "type_names", ()) or ()) | {raised.type_name}
        if error not in names:
            raise AssertionError(
                f"{what} should raise {error}, but raised {raised.type_name}"
            ) from None
        return
    raise AssertionError(f"{what} should raise {error}, but returned {describe(result)}")


def pixel_box(mask: torch.Tensor) -> tuple[int, int, int, int] | None:
    """The bounding box ``(top, bottom, left, right)`` (exclusive ends) of a 2-D bool mask."""
    rows = mask.any(dim=1).nonzero().reshape(-1)
    cols = mask.any(dim=0).nonzero().reshape(-1)
    if rows.numel() == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def hoeffding_halfwidth(n: int, value_range: float, failure_probability: float = 1e-9) -> float:
    """Half-width ``r`` with P(|mean of n samples - expectation| > r) <= failure_probability.

    Hoeffding (1963), "Probability inequalities for sums of bounded random variables", for
    independent samples in an interval of length ``value_range``: r = range * sqrt(ln(2/δ) / 2n).
    Used for statistical checks that a correct solution fails with probability below δ.
    """
    return value_range * math.sqrt(math.log(2 / failure_probability) / (2 * n))


def chi_square_mean_bounds(n: int, failure_probability: float = 1e-9) -> tuple[float, float]:
    """Bounds ``(lo, hi)`` with P(lo <= Q/n <= hi) >= 1 - failure_probability for Q ~ chi2(n).

    Laurent and Massart (2000), "Adaptive estimation of a quadratic functional by model
    selection", Lemma 1: P(Q - n >= 2 sqrt(n x) + 2x) <= e^-x and P(n - Q >= 2 sqrt(n x)) <= e^-x.
    For n samples of N(0, s^2), mean(w^2) / s^2 = Q / n: the check on a normal init's spread.
    """
    x = math.log(2 / failure_probability)
    return 1 - 2 * math.sqrt(x / n), 1 + 2 * math.sqrt(x / n) + 2 * x / n


def gaussian_mean_halfwidth(n: int, std: float, failure_probability: float = 1e-9) -> float:
    """Half-width ``r`` with P(|mean of n samples of N(0, std^2)| > r) <= failure_probability."""
    return std * math.sqrt(2 * math.log(2 / failure_probability) / n)
