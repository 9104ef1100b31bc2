"""Hidden suite, a1 part 2: the derivatives of the activations (chapter 01_activations).

Oracle: torch's autograd of torch's activations in float64.  Each property is graded by its own
test: values in float64 and float32 (several ranks), float16/bfloat16 within a half-precision
tolerance, dtype and device kept, no inf/nan for |x| up to 1e4, the value at x == 0 that autograd
returns (0 for ReLU, negative_slope for Leaky ReLU, alpha for ELU), zero-size tensors returned
with their shape and dtype, and neither grad_out nor x modified on any path (the defaults first).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from autograder.grading.checks import call as call_student
from autograder.grading.checks import (
    check_close,
    check_elementwise,
    check_keeps_dtype_and_device,
    check_pure,
    check_tensor,
    check_zero_size,
    describe_call,
)

Oracle = Callable[[torch.Tensor], torch.Tensor]
Backward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

SHAPES = [(), (7,), (3, 4, 5), (2, 3, 1, 2)]
SPECIAL = [0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 6.0, -6.0, 15.0, -15.0, 40.0, -40.0]
LARGE = [1e4, -1e4, 5e3, -5e3, 1e3, -1e3, 750.0, -750.0, 100.0, -100.0, 90.0, -90.0, 50.0, -50.0]


def _inputs(dtype: torch.dtype, device: torch.device, seed: int = 0,
            nonzero: bool = False) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    xs = [3 * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES]
    xs.append(torch.tensor(SPECIAL, dtype=torch.float64))
    xs = [x.to(device=device, dtype=dtype) for x in xs]
    return [x[x != 0] if nonzero else x for x in xs]


def _large(device: torch.device) -> list[torch.Tensor]:
    return [torch.tensor(LARGE, dtype=dtype, device=device)
            for dtype in (torch.float64, torch.float32)]


def _derivative(fn: Oracle) -> Backward:
    """grad_out * fn'(x) by torch's autograd in float64."""

    def backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        leaf = x.detach().to("cpu", torch.float64).requires_grad_(True)
        fn(leaf).backward(grad_out.detach().to("cpu", torch.float64))
        return leaf.grad

    return backward


def _values(student, name: str, fn: Oracle, xs, **kwargs) -> None:
    check_elementwise(student, name, _derivative(fn), xs, backward=True, **kwargs)


def _half(student, name: str, fn: Oracle, device, nonzero: bool = False, **kwargs) -> None:
    xs = [x.to(dtype) for dtype in (torch.float16, torch.bfloat16)
          for x in _inputs(torch.float64, device, seed=3, nonzero=nonzero)]
    _values(student, name, fn, xs, **kwargs)


def _dtype(student, name: str, device, paths=({},)) -> None:
    x = torch.tensor([-2.0, -0.5, 0.25, 0.5, 3.0, -40.0], device=device).reshape(2, 3)
    check_keeps_dtype_and_device(student, name, x, paths, backward=True)


def _at_zero(student, name: str, fn: Oracle, device, expected_text: str, **kwargs) -> None:
    x = torch.tensor([0.0, 0.0, 0.0, 1.0, -1.0], dtype=torch.float64, device=device)
    grad_out = torch.tensor([1.0, 2.5, -3.0, 1.5, 0.5], dtype=torch.float64, device=device)
    what = describe_call(name, (grad_out, x), kwargs, ("grad_out", "x")) + " at x == 0"
    out = call_student(student, name, grad_out, x, arg_names=("grad_out", "x"), **kwargs)
    check_tensor(out, what, shape=x.shape)
    expected = _derivative(fn)(grad_out, x)
    try:
        check_close(out[:3], expected[:3], what, rtol=1e-12, atol=1e-12)
    except AssertionError as error:
        raise AssertionError(f"{error}; it should be grad_out * {expected_text}, as torch's "
                             "autograd returns") from None
    check_close(out, expected, what.replace("at x == 0", "next to x == 0"), rtol=1e-12,
                atol=1e-12, inputs=x)


def _leaky(slope: float) -> Oracle:
    return lambda x: F.leaky_relu(x, slope)


def _elu(alpha: float) -> Oracle:
    return lambda x: F.elu(x, alpha)


def _common(name: str, fn: Oracle, main_points: float) -> None:
    """sigmoid_backward, tanh_backward, gelu_backward: no kink, no hyperparameter."""
    tests = {
        "matches_autograd_in_float64": (main_points, lambda student, device: _values(
            student, name, fn, _inputs(torch.float64, device))),
        "matches_autograd_in_float32": (0.5, lambda student, device: _values(
            student, name, fn, _inputs(torch.float32, device, seed=1))),
        "is_close_to_autograd_in_float16_and_bfloat16": (0.5, lambda student, device: _half(
            student, name, fn, device)),
        "keeps_dtype_and_device": (0.5, lambda student, device: _dtype(student, name, device)),
        "is_stable_for_large_inputs": (0.5, lambda student, device: _values(
            student, name, fn, _large(device))),
        "returns_zero_size_tensors_with_their_shape": (0.5, lambda student, device:
            check_zero_size(student, name, device, [{}], backward=True)),
        "does_not_modify_its_inputs": (0.5, lambda student, device: check_pure(
            student, name, device, [{}], backward=True)),
    }
    for prop, (points, body) in tests.items():
        def test(student, device, body=body):
            body(student, device)
        test.__name__ = test.__qualname__ = f"test_{name}_{prop}"
        globals()[test.__name__] = pytest.mark.points(points, part=name)(test)


_common("sigmoid_backward", torch.sigmoid, 2)
_common("tanh_backward", torch.tanh, 2)
_common("gelu_backward", F.gelu, 3)

# ----------------------------------------------------------------------------- relu_backward (5)
relu_points = pytest.mark.points(0.5, part="relu_backward")


@pytest.mark.points(1.5, part="relu_backward")
def test_relu_backward_matches_autograd_away_from_zero(student, device):
    xs = _inputs(torch.float64, device, nonzero=True) + _large(device)[:1]
    _values(student, "relu_backward", F.relu, xs)


@pytest.mark.points(1, part="relu_backward")
def test_relu_backward_is_zero_at_zero(student, device):
    _at_zero(student, "relu_backward", F.relu, device, "0")


@relu_points
def test_relu_backward_matches_autograd_in_float32(student, device):
    _values(student, "relu_backward", F.relu, _inputs(torch.float32, device, 1, nonzero=True))


@relu_points
def test_relu_backward_is_exact_in_float16_and_bfloat16(student, device):
    _half(student, "relu_backward", F.relu, device, nonzero=True, tolerance=(0.0, 0.0))


@relu_points
def test_relu_backward_keeps_dtype_and_device(student, device):
    _dtype(student, "relu_backward", device)


@relu_points
def test_relu_backward_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "relu_backward", device, [{}], backward=True)


@relu_points
def test_relu_backward_does_not_modify_its_inputs(student, device):
    check_pure(student, "relu_backward", device, [{}], backward=True)


# ----------------------------------------------------------------------------- leaky_relu_backward
LEAKY_PATHS = [{}, {"negative_slope": 0.2}, {"negative_slope": 1.5}]
leaky_points = pytest.mark.points(0.5, part="leaky_relu_backward")


@pytest.mark.points(1, part="leaky_relu_backward")
def test_leaky_relu_backward_default_slope_matches_autograd(student, device):
    _values(student, "leaky_relu_backward", F.leaky_relu,
            _inputs(torch.float64, device, nonzero=True))


@leaky_points
def test_leaky_relu_backward_uses_negative_slope(student, device):
    for kwargs in LEAKY_PATHS[1:]:
        _values(student, "leaky_relu_backward", _leaky(kwargs["negative_slope"]),
                _inputs(torch.float64, device, nonzero=True), **kwargs)


@pytest.mark.points(1, part="leaky_relu_backward")
def test_leaky_relu_backward_at_zero_is_the_negative_slope(student, device):
    _at_zero(student, "leaky_relu_backward", F.leaky_relu, device, "negative_slope")
    _at_zero(student, "leaky_relu_backward", _leaky(0.2), device, "negative_slope",
             negative_slope=0.2)


@leaky_points
def test_leaky_relu_backward_matches_autograd_in_float32(student, device):
    _values(student, "leaky_relu_backward", _leaky(0.1),
            _inputs(torch.float32, device, 1, nonzero=True), negative_slope=0.1)


@leaky_points
def test_leaky_relu_backward_is_close_to_autograd_in_float16_and_bfloat16(student, device):
    _half(student, "leaky_relu_backward", _leaky(0.2), device, nonzero=True, negative_slope=0.2)


@leaky_points
def test_leaky_relu_backward_keeps_dtype_and_device(student, device):
    _dtype(student, "leaky_relu_backward", device, LEAKY_PATHS[:2])


@leaky_points
def test_leaky_relu_backward_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "leaky_relu_backward", device, LEAKY_PATHS[:2], backward=True)


@leaky_points
def test_leaky_relu_backward_does_not_modify_its_inputs(student, device):
    check_pure(student, "leaky_relu_backward", device, LEAKY_PATHS, backward=True)


# ----------------------------------------------------------------------------- elu_backward (5)
ELU_PATHS = [{}, {"alpha": 0.5}, {"alpha": 2.0}]
elu_points = pytest.mark.points(0.5, part="elu_backward")


@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_default_alpha_matches_autograd(student, device):
    _values(student, "elu_backward", F.elu, _inputs(torch.float64, device, nonzero=True))


@elu_points
def test_elu_backward_uses_alpha(student, device):
    for kwargs in ELU_PATHS[1:]:
        _values(student, "elu_backward", _elu(kwargs["alpha"]),
                _inputs(torch.float64, device, nonzero=True), **kwargs)


@elu_points
def test_elu_backward_at_zero_is_alpha(student, device):
    _at_zero(student, "elu_backward", _elu(0.5), device, "alpha", alpha=0.5)


@elu_points
def test_elu_backward_matches_autograd_in_float32(student, device):
    _values(student, "elu_backward", F.elu, _inputs(torch.float32, device, seed=1))


@elu_points
def test_elu_backward_is_close_to_autograd_in_float16_and_bfloat16(student, device):
    _half(student, "elu_backward", F.elu, device)


@elu_points
def test_elu_backward_keeps_dtype_and_device(student, device):
    _dtype(student, "elu_backward", device, ELU_PATHS[:2])


@elu_points
def test_elu_backward_is_stable_for_large_inputs(student, device):
    _values(student, "elu_backward", F.elu, _large(device))


@elu_points
def test_elu_backward_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "elu_backward", device, ELU_PATHS[:2], backward=True)


@elu_points
def test_elu_backward_does_not_modify_its_inputs(student, device):
    check_pure(student, "elu_backward", device, ELU_PATHS, backward=True)
