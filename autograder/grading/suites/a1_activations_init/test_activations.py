"""Hidden suite, a1 part 1: activation functions (chapter 01_activations).

Oracles: torch's own activations in float64 (``torch.nn.functional``) and x * sigmoid(1.702 x)
for the sigmoid form of GELU, which torch lacks (Hendrycks and Gimpel, 2016, "Gaussian Error
Linear Units").  Each property the notebook promises is graded by its own test: values in
float64 and float32 on several ranks, values in float16/bfloat16 within a half-precision
tolerance, the dtype and device kept (float64/32/16, bfloat16), no inf/nan for |x| up to 1e4,
relative accuracy at tiny |x| (where tanh(x) ~ x and elu(x) ~ x: 1e-9 in float64, 1e-5 in
float32), zero-size tensors returned with their shape and dtype, and inputs never modified on
any path (the defaults first).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from autograder.grading.checks import (
    check_elementwise,
    check_keeps_dtype_and_device,
    check_pure,
    check_raises,
    check_zero_size,
)

Oracle = Callable[[torch.Tensor], torch.Tensor]

# 0-D, 1-D, 3-D and 4-D: every rank the contract allows
SHAPES = [(), (7,), (3, 4, 5), (2, 3, 1, 2)]
# exact zeros, tiny, moderate and saturating values
SPECIAL = [0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 6.0, -6.0, 15.0, -15.0, 40.0, -40.0]
# beyond exp's overflow in float32 (88.7) and float64 (709.8)
LARGE = [1e4, -1e4, 5e3, -5e3, 1e3, -1e3, 750.0, -750.0, 100.0, -100.0, 90.0, -90.0, 50.0, -50.0]
# where exp(x) - 1, 2 sigmoid(2x) - 1 and (e^x - e^-x) / (e^x + e^-x) lose every digit
TINY = {torch.float64: [1e-10, -1e-10, 3e-12, -3e-12, 1e-14, -1e-14, 2.5e-9, -2.5e-9],
        torch.float32: [1e-6, -1e-6, 3e-8, -3e-8, 1e-10, -1e-10]}
TINY_RTOL = {torch.float64: 1e-9, torch.float32: 1e-5}
GELU_FORMS = ["none", "tanh", "sigmoid"]


def _inputs(dtype: torch.dtype, device: torch.device, seed: int = 0) -> list[torch.Tensor]:
    """Random tensors of several ranks, then the special values, all of dtype and device."""
    generator = torch.Generator().manual_seed(seed)
    xs = [3 * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES]
    xs.append(torch.tensor(SPECIAL, dtype=torch.float64))
    return [x.to(device=device, dtype=dtype) for x in xs]


def _large(device: torch.device) -> list[torch.Tensor]:
    return [torch.tensor(LARGE, dtype=dtype, device=device)
            for dtype in (torch.float64, torch.float32)]


def _values(student, name: str, oracle: Oracle, xs, **kwargs) -> None:
    check_elementwise(student, name, oracle, xs, **kwargs)


def _half(student, name: str, oracle: Oracle, device, **kwargs) -> None:
    xs = [x.to(dtype) for dtype in (torch.float16, torch.bfloat16)
          for x in _inputs(torch.float64, device, seed=3)]
    check_elementwise(student, name, oracle, xs, **kwargs)


def _tiny(student, name: str, oracle: Oracle, device, **kwargs) -> None:
    for dtype, values in TINY.items():
        x = torch.tensor(values, dtype=dtype, device=device)
        check_elementwise(student, name, oracle, [x], tolerance=(TINY_RTOL[dtype], 0.0),
                          **kwargs)


def _dtype(student, name: str, device, paths=({},)) -> None:
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0, -40.0], device=device).reshape(2, 3)
    check_keeps_dtype_and_device(student, name, x, paths)


def _gelu_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def _gelu(approximate: str) -> Oracle:
    if approximate == "sigmoid":
        return _gelu_sigmoid
    return lambda x: F.gelu(x, approximate=approximate)


def _leaky(slope: float) -> Oracle:
    return lambda x: F.leaky_relu(x, slope)


def _elu(alpha: float) -> Oracle:
    return lambda x: F.elu(x, alpha)


# The same eight properties of the functions without hyperparameters, half a point each.
def _common(name: str, oracle: Oracle) -> None:
    part = pytest.mark.points(0.5, part=name)
    tests = {
        "matches_torch_in_float64": lambda student, device: _values(
            student, name, oracle, _inputs(torch.float64, device)),
        "matches_torch_in_float32": lambda student, device: _values(
            student, name, oracle, _inputs(torch.float32, device, seed=1)),
        "is_close_to_torch_in_float16_and_bfloat16": lambda student, device: _half(
            student, name, oracle, device),
        "keeps_dtype_and_device": lambda student, device: _dtype(student, name, device),
        "is_stable_for_large_inputs": lambda student, device: _values(
            student, name, oracle, _large(device)),
        "is_accurate_relative_to_tiny_inputs": lambda student, device: _tiny(
            student, name, oracle, device),
        "returns_zero_size_tensors_with_their_shape": lambda student, device: check_zero_size(
            student, name, device, [{}]),
        "does_not_modify_its_input": lambda student, device: check_pure(
            student, name, device, [{}]),
    }
    for prop, body in tests.items():
        def test(student, device, body=body):
            body(student, device)
        test.__name__ = test.__qualname__ = f"test_{name}_{prop}"
        globals()[test.__name__] = part(test)


_common("sigmoid", torch.sigmoid)
_common("tanh", torch.tanh)
_common("silu", F.silu)

# ----------------------------------------------------------------------------- relu (3 points)
relu_points = pytest.mark.points(0.5, part="relu")


@relu_points
def test_relu_matches_torch_in_float64_including_large_inputs(student, device):
    _values(student, "relu", F.relu, _inputs(torch.float64, device) + _large(device)[:1])


@relu_points
def test_relu_matches_torch_in_float32(student, device):
    _values(student, "relu", F.relu, _inputs(torch.float32, device, seed=1))


@relu_points
def test_relu_is_exact_in_float16_and_bfloat16(student, device):
    _half(student, "relu", F.relu, device, tolerance=(0.0, 0.0))


@relu_points
def test_relu_keeps_dtype_and_device(student, device):
    _dtype(student, "relu", device)


@relu_points
def test_relu_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "relu", device, [{}])


@relu_points
def test_relu_does_not_modify_its_input(student, device):
    check_pure(student, "relu", device, [{}])


# ----------------------------------------------------------------------------- leaky_relu (4)
LEAKY_PATHS = [{}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": 1.5}]
leaky_points = pytest.mark.points(0.5, part="leaky_relu")


@pytest.mark.points(1, part="leaky_relu")
def test_leaky_relu_default_slope_is_0_01(student, device):
    _values(student, "leaky_relu", F.leaky_relu, _inputs(torch.float64, device))


@leaky_points
def test_leaky_relu_uses_negative_slope(student, device):
    for kwargs in LEAKY_PATHS[1:]:
        _values(student, "leaky_relu", _leaky(kwargs["negative_slope"]),
                _inputs(torch.float64, device, seed=2), **kwargs)


@leaky_points
def test_leaky_relu_matches_torch_in_float32_including_large_inputs(student, device):
    xs = _inputs(torch.float32, device, seed=1) + _large(device)[1:]
    _values(student, "leaky_relu", _leaky(0.1), xs, negative_slope=0.1)


@leaky_points
def test_leaky_relu_is_close_to_torch_in_float16_and_bfloat16(student, device):
    _half(student, "leaky_relu", _leaky(0.2), device, negative_slope=0.2)


@leaky_points
def test_leaky_relu_keeps_dtype_and_device(student, device):
    _dtype(student, "leaky_relu", device, LEAKY_PATHS[:2])


@leaky_points
def test_leaky_relu_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "leaky_relu", device, LEAKY_PATHS[:2])


@leaky_points
def test_leaky_relu_does_not_modify_its_input(student, device):
    check_pure(student, "leaky_relu", device, LEAKY_PATHS)


# ----------------------------------------------------------------------------- elu (5)
ELU_PATHS = [{}, {"alpha": 0.5}, {"alpha": 2.0}]
elu_points = pytest.mark.points(0.5, part="elu")


@pytest.mark.points(1, part="elu")
def test_elu_default_alpha_matches_torch(student, device):
    _values(student, "elu", F.elu, _inputs(torch.float64, device))


@elu_points
def test_elu_uses_alpha(student, device):
    for kwargs in ELU_PATHS[1:]:
        _values(student, "elu", _elu(kwargs["alpha"]), _inputs(torch.float64, device, seed=2),
                **kwargs)


@elu_points
def test_elu_matches_torch_in_float32(student, device):
    _values(student, "elu", F.elu, _inputs(torch.float32, device, seed=1))


@elu_points
def test_elu_is_close_to_torch_in_float16_and_bfloat16(student, device):
    _half(student, "elu", F.elu, device)


@elu_points
def test_elu_keeps_dtype_and_device(student, device):
    _dtype(student, "elu", device, ELU_PATHS[:2])


@elu_points
def test_elu_is_stable_for_large_inputs(student, device):
    _values(student, "elu", F.elu, _large(device))


@elu_points
def test_elu_is_accurate_relative_to_tiny_inputs(student, device):
    _tiny(student, "elu", F.elu, device)
    _tiny(student, "elu", _elu(2.0), device, alpha=2.0)


@elu_points
def test_elu_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "elu", device, ELU_PATHS[:2])


@elu_points
def test_elu_does_not_modify_its_input(student, device):
    check_pure(student, "elu", device, ELU_PATHS)


# ----------------------------------------------------------------------------- selu (5)
selu_points = pytest.mark.points(0.5, part="selu")


@pytest.mark.points(1.5, part="selu")
def test_selu_matches_torch_with_the_self_normalising_constants(student, device):
    _values(student, "selu", F.selu, _inputs(torch.float64, device))


@selu_points
def test_selu_matches_torch_in_float32(student, device):
    _values(student, "selu", F.selu, _inputs(torch.float32, device, seed=1))


@selu_points
def test_selu_is_close_to_torch_in_float16_and_bfloat16(student, device):
    _half(student, "selu", F.selu, device)


@selu_points
def test_selu_keeps_dtype_and_device(student, device):
    _dtype(student, "selu", device)


@selu_points
def test_selu_is_stable_for_large_inputs(student, device):
    _values(student, "selu", F.selu, _large(device))


@selu_points
def test_selu_is_accurate_relative_to_tiny_inputs(student, device):
    _tiny(student, "selu", F.selu, device)


@selu_points
def test_selu_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "selu", device, [{}])


@selu_points
def test_selu_does_not_modify_its_input(student, device):
    check_pure(student, "selu", device, [{}])


# ----------------------------------------------------------------------------- gelu (8)
GELU_PATHS = [{}, *({"approximate": form} for form in GELU_FORMS)]
gelu_points = pytest.mark.points(0.5, part="gelu")


@pytest.mark.points(2, part="gelu")
def test_gelu_exact_erf_form_matches_torch(student, device):
    xs = _inputs(torch.float64, device)
    _values(student, "gelu", F.gelu, xs)
    _values(student, "gelu", F.gelu, xs, approximate="none")


@pytest.mark.points(1, part="gelu")
def test_gelu_tanh_form_matches_torch(student, device):
    _values(student, "gelu", _gelu("tanh"), _inputs(torch.float64, device), approximate="tanh")


@pytest.mark.points(1, part="gelu")
def test_gelu_sigmoid_form_is_x_times_sigmoid_of_1_702_x(student, device):
    _values(student, "gelu", _gelu("sigmoid"), _inputs(torch.float64, device),
            approximate="sigmoid")


@gelu_points
def test_gelu_raises_value_error_for_an_unknown_approximation(student, device):
    x = torch.linspace(-3, 3, 7, dtype=torch.float64, device=device)
    for form in ("erf", "cubic"):
        check_raises(lambda f=form: student.gelu(x, approximate=f), "ValueError",
                     f"gelu(x: float64[7], approximate={form!r})")


@gelu_points
def test_gelu_matches_torch_in_float32_in_all_forms(student, device):
    for form in GELU_FORMS:
        _values(student, "gelu", _gelu(form), _inputs(torch.float32, device, seed=1),
                approximate=form)


@gelu_points
def test_gelu_is_close_to_torch_in_float16_and_bfloat16_in_all_forms(student, device):
    for form in GELU_FORMS:
        _half(student, "gelu", _gelu(form), device, approximate=form)


@gelu_points
def test_gelu_keeps_dtype_and_device_in_all_forms(student, device):
    _dtype(student, "gelu", device, GELU_PATHS)


@gelu_points
def test_gelu_is_stable_for_large_inputs_in_all_forms(student, device):
    for form in GELU_FORMS:
        _values(student, "gelu", _gelu(form), _large(device), approximate=form)


@gelu_points
def test_gelu_is_accurate_relative_to_tiny_inputs_in_all_forms(student, device):
    for form in GELU_FORMS:
        _tiny(student, "gelu", _gelu(form), device, approximate=form)


@gelu_points
def test_gelu_returns_zero_size_tensors_with_their_shape(student, device):
    check_zero_size(student, "gelu", device, GELU_PATHS)


@gelu_points
def test_gelu_does_not_modify_its_input_in_any_form(student, device):
    check_pure(student, "gelu", device, GELU_PATHS)
