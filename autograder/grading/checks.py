"""Assertion helpers shared by the hidden suites: checks with short, student-facing messages.

Every helper raises ``AssertionError`` with one sentence that says *which call* failed (the
caller passes ``what``, built with :func:`describe_call`: function, argument shapes and dtypes,
the hyperparameters that matter), *what* is wrong and, for values, the first offending element
("sigmoid(x: float64[15]) is wrong for 2 of 15 values (largest error 0.5 at x = 1: expected
0.731, got 1.23)"). Hidden inputs are summarised (shape, dtype, one element), never printed
wholesale, and expected values are quoted to fewer digits than their check needs
(:func:`shown`), so no message can be replayed as an answer. The grader reports the message of
the assertion, not pytest's diff, so the message is all the student sees. NaN and inf fail every
numeric check unless the expected value is the same.

The oracles themselves (torch in float64, exact properties where torch has none) live in the
suites; these helpers only compare.
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


def shown(value: float, rtol: float, most: int = 6) -> str:
    """``value`` for a message, to fewer significant digits than the check it comes from needs.

    A message shows what went wrong, but a value quoted exactly enough to pass its check would
    let a student copy it into a lookup table over a few gradings instead of writing the formula
    (issue 14).  With d significant digits the rounding error is typically 2.5e-d relative, so
    d = floor(-log10(rtol)) - 1 keeps it about 25 times above ``rtol`` (at most ``most``, at
    least one digit; a value that happens to be short, such as 0.5, is shown as it is).
    """
    digits = most if rtol <= 0 else max(1, min(most, math.floor(-math.log10(rtol)) - 1))
    return f"{value:.{digits}g}"


def how_far(value: float, expected: float, rtol: float, atol: float) -> str:
    """How far ``value`` is from ``expected`` and how far it may be, for a check that allows
    ``atol + rtol * |expected|``: relative to ``expected``, or absolute when it is 0."""
    if expected == 0:
        return f"absolute error {abs(value):.2g}, allowed {atol:.2g}"
    return (f"relative error {abs(value - expected) / abs(expected):.2g}, allowed "
            f"{rtol + atol / abs(expected):.2g}")


def _arg(value: Any) -> str:
    """One argument of a call, short: ``float32[3, 4]`` for a tensor, else its repr (cut)."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        text = f"{dtype}[{', '.join(str(n) for n in value.shape)}]"
        if value.device.type != "cpu":
            text += f" on {value.device.type}"
        return text + (" requiring grad" if value.requires_grad else "")
    if isinstance(value, list | tuple) and any(isinstance(v, torch.Tensor) for v in value):
        inner = ", ".join(_arg(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_call(name: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
                  arg_names: Sequence[str] = ()) -> str:
    """A call as a student reads it: ``leaky_relu(x: float16[3, 4], negative_slope=0.2)``.

    ``arg_names`` names the positional arguments (``("grad_out", "x")``); tensors are shown by
    dtype and shape only, other values by their (shortened) repr.
    """
    shown = []
    for index, value in enumerate(args):
        label = f"{arg_names[index]}: " if index < len(arg_names) else ""
        shown.append(label + _arg(value))
    shown += [f"{key}={_arg(value)}" for key, value in (kwargs or {}).items()]
    return f"{name}({', '.join(shown)})"


def call(student: Any, name: str, *args: Any, arg_names: Sequence[str] = (),
         **kwargs: Any) -> Any:
    """``student.name(*args, **kwargs)``; an exception of the student's code names the call.

    A ``StudentError`` (the student's code raised) comes back as the same error whose ``where``
    is the call (``sigmoid(x: float16[7]) raised RuntimeError: ...``), so the student sees which
    call failed; timeouts, crashes and forbidden calls propagate unchanged.
    """
    from autograder.errors import StudentError

    try:
        return getattr(student, name)(*args, **kwargs)
    except StudentError as error:
        raise StudentError(error.type_name, error.message,
                           where=describe_call(name, args, kwargs, arg_names),
                           traceback=error.traceback) from None


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
            f"{at(first)} (expected {shown(want[first].item(), rtol, 3)}; use a numerically "
            "stable formula)"
        )
    same_special = (got == want) | (torch.isnan(got) & torch.isnan(want))
    error = (got - want).abs()
    error = torch.where(same_special, torch.zeros_like(error), error)
    bad = (error > atol + rtol * want.abs()) | (~same_special & ~torch.isfinite(want))
    if bool(bad.any()):
        worst = int(torch.where(bad, error, torch.full_like(error, -1.0)).argmax())
        allowed = f"{_fmt(rtol)}*|expected|" + (f" + {_fmt(atol)}" if atol > 0 else "")
        raise AssertionError(
            f"{what} is wrong for {int(bad.sum())} of {got.numel()} values (largest error "
            f"{_fmt(error[worst].item())}{at(worst)}: expected {shown(want[worst].item(), rtol, 3)}"
            f", got {_fmt(got[worst].item())}; allowed error {allowed})"
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
        raise AssertionError(f"{what} is {value}, expected {shown(expected, rtol)}")
    if abs(value - expected) > atol + rtol * abs(expected):
        raise AssertionError(f"{what} is {shown(value, rtol)}, expected {shown(expected, rtol)}"
                             f" ({how_far(value, expected, rtol, atol)})")
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
    """Whether a tensor a call received was modified in place: its bits, shape or dtype changed.

    ``before`` is what was sent (a tree of dicts, lists and tuples); ``after`` holds *the very
    tensor objects the call received*, as they are after it: ``CallInfo.received_after`` (the
    flat list of the tensors of ``[args, kwargs]``, in ``tensors_in`` order), or a slice or tree
    of them.  They are compared in the order ``tensors_in`` walks both, bit for bit (nan equal
    to itself, -0.0 distinct from 0.0), so a write through a view or an alias of a received
    tensor counts.  A container's own changes do not count: a rule that stores a *new* tensor
    under a key of the dict it received, adds or removes keys, or returns another dict has
    modified no tensor.  (A tree whose tensors are not the received objects, such as the state
    dict after the call, cannot tell a rebound key from an in-place write: do not pass one.)
    """
    from autograder.sandbox.handles import changed, tensors_in

    sent, received = tensors_in(before), tensors_in(after)
    if len(sent) != len(received):
        raise ValueError(f"tensors_changed: {len(sent)} tensors sent, {len(received)} received")
    return any(changed(b, a) for b, a in zip(sent, received, strict=True))


def calling(call: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an exception of the student's code names the call."""
    from autograder.errors import StudentError

    try:
        return function(*args, **kwargs)
    except StudentError as error:
        raise AssertionError(f"{call} raised {error.type_name}: {error.message}"[:500]) from None


def check_scalar(actual: Any, expected: float, call: str, *, rtol: float = 1e-9,
                 atol: float = 1e-12) -> float:
    """A finite number within tolerance of ``expected``; the message gives both values."""
    value = as_number(actual, f"{call}'s result")
    if not math.isfinite(value):
        raise AssertionError(f"{call} returned {value}, expected {shown(expected, rtol)}")
    if abs(value - expected) > atol + rtol * abs(expected):
        raise AssertionError(f"{call} returned {shown(value, rtol)}, expected "
                             f"{shown(expected, rtol)} ({how_far(value, expected, rtol, atol)})")
    return value


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


# ------------------------------------------------------------------------ elementwise functions
# Tolerances per dtype, (rtol, atol), for values computed in the input's dtype and compared with
# a float64 oracle on the same (rounded) inputs.  In half precision a valid formula may cancel
# O(1) terms (1 - tanh(x)^2, (1 + tanh(x/2)) / 2): atol is four units in the last place at 1
# (float16 2^-10, bfloat16 2^-7), rtol ten (float16) and five (bfloat16).
ELEMENTWISE_TOLERANCE = {
    torch.float64: (1e-7, 1e-10),
    torch.float32: (1e-5, 1e-6),
    torch.float16: (1e-2, 4e-3),
    torch.bfloat16: (4e-2, 3e-2),
}


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def check_elementwise(student: Any, name: str, oracle: Callable[..., torch.Tensor],
                      xs: Sequence[torch.Tensor], *, backward: bool = False,
                      tolerance: tuple[float, float] | None = None, check_dtype: bool = False,
                      seed: int = 11, **kwargs: Any) -> None:
    """Compare ``student.name(x, **kwargs)`` (or ``(grad_out, x, ...)``) with ``oracle`` per x.

    The oracle runs in float64 on the CPU on the same (rounded) values; for ``backward`` it gets
    ``(grad_out, x)`` and ``grad_out`` is random in x's dtype.  Only the shape is required unless
    ``check_dtype`` (a dtype slip is graded by its own test); NaN/inf fail unless expected.
    """
    generator = torch.Generator().manual_seed(seed)
    for x in xs:
        rtol, atol = tolerance or ELEMENTWISE_TOLERANCE[x.dtype]
        x64 = x.detach().to("cpu", torch.float64)
        if backward:
            grad_out = torch.randn(x.shape, generator=generator, dtype=torch.float64)
            grad_out = grad_out.to(device=x.device, dtype=x.dtype)
            args, names = (grad_out, x), ("grad_out", "x")
            expected = oracle(grad_out.detach().to("cpu", torch.float64), x64)
        else:
            args, names = (x,), ("x",)
            expected = oracle(x64)
        what = describe_call(name, args, kwargs, names)
        out = call(student, name, *args, arg_names=names, **kwargs)
        check_tensor(out, what, shape=x.shape, dtype=x.dtype if check_dtype else None)
        check_close(out, expected, what, rtol=rtol, atol=atol, inputs=x)


def check_keeps_dtype_and_device(student: Any, name: str, x: torch.Tensor,
                                 paths: Sequence[dict[str, Any]], *, backward: bool = False,
                                 dtypes: Sequence[torch.dtype] = tuple(ELEMENTWISE_TOLERANCE)
                                 ) -> None:
    """The result has x's shape, dtype (float64/32/16, bfloat16) and device, on every path.

    Each dtype is tried on x and on a 0-d tensor (where a float32 scalar tensor would promote).
    """
    for dtype in dtypes:
        for xd in (x.to(dtype), x.to(dtype).reshape(-1)[0].clone()):
            args, names = ((torch.ones_like(xd), xd), ("grad_out", "x")) if backward else \
                ((xd,), ("x",))
            for kwargs in paths:
                what = describe_call(name, args, kwargs, names)
                out = call(student, name, *args, arg_names=names, **kwargs)
                check_tensor(out, what, shape=xd.shape, dtype=dtype, device=x.device)


def check_zero_size(student: Any, name: str, device: torch.device,
                    paths: Sequence[dict[str, Any]], *, backward: bool = False) -> None:
    """A tensor with a zero-size dimension comes back with the same shape and dtype."""
    for shape in [(0,), (3, 0, 2)]:
        for dtype in (torch.float32, torch.float64):
            x = torch.zeros(shape, dtype=dtype, device=device)
            args, names = ((x.clone(), x), ("grad_out", "x")) if backward else ((x,), ("x",))
            for kwargs in paths:
                what = describe_call(name, args, kwargs, names)
                out = call(student, name, *args, arg_names=names, **kwargs)
                check_tensor(out, what, shape=shape, dtype=dtype, device=device)


def check_pure(student: Any, name: str, device: torch.device,
               paths: Sequence[dict[str, Any]], *, backward: bool = False) -> None:
    """No call writes into its inputs, on every path (defaults first) and every branch.

    The inputs hold both signs, zeros and |x| = 1e4, so every branch of the function runs.
    """
    generator = torch.Generator().manual_seed(5)
    for kwargs in paths:
        x = torch.randn(4, 6, generator=generator, dtype=torch.float64)
        x[0, :4] = torch.tensor([0.0, -1e4, 1e4, -0.0], dtype=torch.float64)
        x = x.to(device)
        if backward:
            grad_out = torch.randn(4, 6, generator=generator, dtype=torch.float64).to(device)
            args, names = [grad_out, x], ["grad_out", "x"]
        else:
            args, names = [x], ["x"]
        from autograder.errors import StudentError

        try:
            info = student.call(name, *args, **kwargs)
        except StudentError as error:
            raise StudentError(error.type_name, error.message,
                               where=describe_call(name, args, kwargs, names),
                               traceback=error.traceback) from None
        check_unmodified(info, describe_call(name, args, kwargs, names), names)
