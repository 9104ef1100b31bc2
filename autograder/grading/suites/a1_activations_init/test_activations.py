"""Hidden suite, a1 part 1: activation functions and their derivatives (chapter 01_activations).

Oracles: torch's own activations in float64 (``torch.nn.functional``), their derivatives by
autograd, and x * sigmoid(1.702 x) for the sigmoid form of GELU, which torch lacks
(Hendrycks and Gimpel, 2016, "Gaussian Error Linear Units").  Conventions checked for every
function: values on several shapes, float32 and float64 kept, device kept, inputs never modified,
no inf/nan for |x| up to 1e4, derivatives at x == 0 as torch's autograd returns them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from autograder.grading.checks import check_close, check_raises, check_tensor, check_unmodified

Oracle = Callable[[torch.Tensor], torch.Tensor]

SHAPES = [(), (7,), (3, 4, 5)]
# exact zeros, tiny, moderate and saturating values
SPECIAL = [0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 6.0, -6.0, 15.0, -15.0, 40.0, -40.0]
# beyond exp's overflow in float32 (88.7) and float64 (709.8)
LARGE = [1e4, -1e4, 5e3, -5e3, 1e3, -1e3, 750.0, -750.0, 100.0, -100.0, 90.0, -90.0, 50.0, -50.0]
TOLERANCE = {torch.float64: (1e-7, 1e-10), torch.float32: (1e-5, 1e-6)}


def _inputs(dtype: torch.dtype, device: torch.device, seed: int = 0) -> list[torch.Tensor]:
    """Random tensors of several shapes, then the special values, all of dtype and device."""
    generator = torch.Generator().manual_seed(seed)
    xs = [3 * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES]
    xs.append(torch.tensor(SPECIAL, dtype=torch.float64))
    return [x.to(device=device, dtype=dtype) for x in xs]


def _check_forward(student, name: str, oracle: Oracle, xs: list[torch.Tensor],
                   label: str = "", **kwargs) -> None:
    """Compare ``student.name(x, **kwargs)`` with ``oracle`` (run in float64) for each x."""
    for x in xs:
        rtol, atol = TOLERANCE[x.dtype]
        what = f"{name}({label}) on a {str(x.dtype)[6:]} input of shape {tuple(x.shape)}"
        out = getattr(student, name)(x, **kwargs)
        check_tensor(out, what, shape=x.shape, dtype=x.dtype, device=x.device)
        expected = oracle(x.detach().to("cpu", torch.float64))
        check_close(out, expected, what, rtol=rtol, atol=atol, inputs=x)


def _check_large(student, name: str, oracle: Oracle, device: torch.device, **kwargs) -> None:
    """No inf/nan and the right limits for |x| up to 1e4, in float32 and float64."""
    for dtype in (torch.float64, torch.float32):
        x = torch.tensor(LARGE, dtype=dtype, device=device)
        _check_forward(student, name, oracle, [x], label=f"large x{_kw(kwargs)}", **kwargs)


def _kw(kwargs: dict) -> str:
    return "".join(f", {k}={v!r}" for k, v in kwargs.items())


def _check_unmodified(student, name: str, device: torch.device, backward: bool = False) -> None:
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(4, 6, generator=generator, dtype=torch.float64).to(device)
    x[0, :3] = torch.tensor([0.0, -1e4, 1e4], dtype=torch.float64)
    if backward:
        grad_out = torch.randn(4, 6, generator=generator, dtype=torch.float64).to(device)
        info = student.call(name, grad_out, x)
        check_unmodified(info, name, ["grad_out", "x"])
    else:
        info = student.call(name, x)
        check_unmodified(info, name, ["x"])


def _derivative(fn: Oracle) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """grad_out * fn'(x) by torch's autograd in float64."""

    def backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        leaf = x.detach().to("cpu", torch.float64).requires_grad_(True)
        fn(leaf).backward(grad_out.detach().to("cpu", torch.float64))
        return leaf.grad

    return backward


def _check_backward(student, name: str, fn: Oracle, xs: list[torch.Tensor], label: str = "",
                    **kwargs) -> None:
    """Compare ``student.name(grad_out, x, **kwargs)`` with autograd of ``fn`` for each x."""
    oracle = _derivative(fn)
    generator = torch.Generator().manual_seed(11)
    for x in xs:
        rtol, atol = TOLERANCE[x.dtype]
        grad_out = torch.randn(x.shape, generator=generator, dtype=torch.float64)
        grad_out = grad_out.to(device=x.device, dtype=x.dtype)
        what = f"{name}({label}) on {str(x.dtype)[6:]} inputs of shape {tuple(x.shape)}"
        out = getattr(student, name)(grad_out, x, **kwargs)
        check_tensor(out, what, shape=x.shape, dtype=x.dtype, device=x.device)
        check_close(out, oracle(grad_out, x), what, rtol=rtol, atol=atol, inputs=x)


def _check_backward_large(student, name: str, fn: Oracle, device: torch.device,
                          **kwargs) -> None:
    for dtype in (torch.float64, torch.float32):
        x = torch.tensor(LARGE, dtype=dtype, device=device)
        _check_backward(student, name, fn, [x], label=f"large x{_kw(kwargs)}", **kwargs)


def _check_backward_at_zero(student, name: str, fn: Oracle, device: torch.device,
                            expected_text: str, **kwargs) -> None:
    x = torch.tensor([0.0, 0.0, 0.0, 1.0, -1.0], dtype=torch.float64, device=device)
    grad_out = torch.tensor([1.0, 2.5, -3.0, 1.5, 0.5], dtype=torch.float64, device=device)
    out = getattr(student, name)(grad_out, x, **kwargs)
    what = f"{name}{'(' + _kw(kwargs)[2:] + ')' if kwargs else ''} at x == 0"
    check_tensor(out, what, shape=x.shape)
    expected = _derivative(fn)(grad_out, x)
    try:
        check_close(out[:3], expected[:3], what, rtol=1e-12, atol=1e-12)
    except AssertionError:
        raise AssertionError(
            f"{what} should be grad_out * {expected_text}, as torch's autograd returns"
        ) from None
    check_close(out, expected, f"{name} next to x == 0", rtol=1e-12, atol=1e-12, inputs=x)


def _gelu_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def _gelu(approximate: str) -> Oracle:
    if approximate == "sigmoid":
        return _gelu_sigmoid
    return lambda x: F.gelu(x, approximate=approximate)


# ----------------------------------------------------------------------------- sigmoid
@pytest.mark.points(1, part="sigmoid")
def test_sigmoid_matches_torch_in_float64(student, device):
    _check_forward(student, "sigmoid", torch.sigmoid, _inputs(torch.float64, device))


@pytest.mark.points(1, part="sigmoid")
def test_sigmoid_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "sigmoid", torch.sigmoid, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="sigmoid")
def test_sigmoid_is_stable_for_large_inputs(student, device):
    _check_large(student, "sigmoid", torch.sigmoid, device)


@pytest.mark.points(1, part="sigmoid")
def test_sigmoid_does_not_modify_its_input(student, device):
    _check_unmodified(student, "sigmoid", device)


# ----------------------------------------------------------------------------- tanh
@pytest.mark.points(1, part="tanh")
def test_tanh_matches_torch_in_float64(student, device):
    _check_forward(student, "tanh", torch.tanh, _inputs(torch.float64, device))


@pytest.mark.points(1, part="tanh")
def test_tanh_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "tanh", torch.tanh, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="tanh")
def test_tanh_is_stable_for_large_inputs(student, device):
    _check_large(student, "tanh", torch.tanh, device)


@pytest.mark.points(1, part="tanh")
def test_tanh_does_not_modify_its_input(student, device):
    _check_unmodified(student, "tanh", device)


# ----------------------------------------------------------------------------- relu
@pytest.mark.points(1, part="relu")
def test_relu_matches_torch_in_float64_including_large_inputs(student, device):
    xs = _inputs(torch.float64, device) + [torch.tensor(LARGE, dtype=torch.float64).to(device)]
    _check_forward(student, "relu", F.relu, xs)


@pytest.mark.points(1, part="relu")
def test_relu_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "relu", F.relu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="relu")
def test_relu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "relu", device)


# ----------------------------------------------------------------------------- leaky_relu
@pytest.mark.points(1, part="leaky_relu")
def test_leaky_relu_default_slope_is_0_01(student, device):
    _check_forward(student, "leaky_relu", F.leaky_relu, _inputs(torch.float64, device))


@pytest.mark.points(1, part="leaky_relu")
def test_leaky_relu_uses_negative_slope(student, device):
    for slope in (0.2, 0.0, 1.5):
        _check_forward(student, "leaky_relu", lambda x, s=slope: F.leaky_relu(x, s),
                       _inputs(torch.float64, device, seed=2), label=f"negative_slope={slope}",
                       negative_slope=slope)


@pytest.mark.points(1, part="leaky_relu")
def test_leaky_relu_float32_keeps_dtype_and_device(student, device):
    xs = _inputs(torch.float32, device, seed=1) + [torch.tensor(LARGE, device=device)]
    _check_forward(student, "leaky_relu", lambda x: F.leaky_relu(x, 0.1), xs,
                   label="negative_slope=0.1", negative_slope=0.1)


@pytest.mark.points(1, part="leaky_relu")
def test_leaky_relu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "leaky_relu", device)


# ----------------------------------------------------------------------------- elu
@pytest.mark.points(1, part="elu")
def test_elu_default_alpha_matches_torch(student, device):
    _check_forward(student, "elu", F.elu, _inputs(torch.float64, device))


@pytest.mark.points(1, part="elu")
def test_elu_uses_alpha(student, device):
    for alpha in (0.5, 2.0):
        _check_forward(student, "elu", lambda x, a=alpha: F.elu(x, a),
                       _inputs(torch.float64, device, seed=2), label=f"alpha={alpha}",
                       alpha=alpha)


@pytest.mark.points(1, part="elu")
def test_elu_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "elu", F.elu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="elu")
def test_elu_is_stable_for_large_inputs(student, device):
    _check_large(student, "elu", F.elu, device)


@pytest.mark.points(1, part="elu")
def test_elu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "elu", device)


# ----------------------------------------------------------------------------- selu
@pytest.mark.points(2, part="selu")
def test_selu_matches_torch_with_the_self_normalising_constants(student, device):
    _check_forward(student, "selu", F.selu, _inputs(torch.float64, device))


@pytest.mark.points(1, part="selu")
def test_selu_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "selu", F.selu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="selu")
def test_selu_is_stable_for_large_inputs(student, device):
    _check_large(student, "selu", F.selu, device)


@pytest.mark.points(1, part="selu")
def test_selu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "selu", device)


# ----------------------------------------------------------------------------- gelu
@pytest.mark.points(2, part="gelu")
def test_gelu_exact_erf_form_matches_torch(student, device):
    xs = _inputs(torch.float64, device)
    _check_forward(student, "gelu", F.gelu, xs)
    _check_forward(student, "gelu", F.gelu, xs, label="approximate='none'", approximate="none")


@pytest.mark.points(1, part="gelu")
def test_gelu_tanh_form_matches_torch(student, device):
    _check_forward(student, "gelu", _gelu("tanh"), _inputs(torch.float64, device),
                   label="approximate='tanh'", approximate="tanh")


@pytest.mark.points(1, part="gelu")
def test_gelu_sigmoid_form_is_x_times_sigmoid_of_1_702_x(student, device):
    _check_forward(student, "gelu", _gelu("sigmoid"), _inputs(torch.float64, device),
                   label="approximate='sigmoid'", approximate="sigmoid")


@pytest.mark.points(1, part="gelu")
def test_gelu_raises_value_error_for_an_unknown_approximation(student, device):
    x = torch.linspace(-3, 3, 7, dtype=torch.float64, device=device)
    for form in ("erf", "cubic"):
        check_raises(lambda f=form: student.gelu(x, approximate=f), "ValueError",
                     f"gelu(x, approximate={form!r})")


@pytest.mark.points(1, part="gelu")
def test_gelu_float32_keeps_dtype_and_device_in_all_forms(student, device):
    for form in ("none", "tanh", "sigmoid"):
        _check_forward(student, "gelu", _gelu(form), _inputs(torch.float32, device, seed=1),
                       label=f"approximate={form!r}", approximate=form)


@pytest.mark.points(1, part="gelu")
def test_gelu_is_stable_for_large_inputs_in_all_forms(student, device):
    for form in ("none", "tanh", "sigmoid"):
        _check_large(student, "gelu", _gelu(form), device, approximate=form)


@pytest.mark.points(1, part="gelu")
def test_gelu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "gelu", device)


# ----------------------------------------------------------------------------- silu
@pytest.mark.points(1, part="silu")
def test_silu_matches_torch_in_float64(student, device):
    _check_forward(student, "silu", F.silu, _inputs(torch.float64, device))


@pytest.mark.points(1, part="silu")
def test_silu_float32_keeps_dtype_and_device(student, device):
    _check_forward(student, "silu", F.silu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="silu")
def test_silu_is_stable_for_large_inputs(student, device):
    _check_large(student, "silu", F.silu, device)


@pytest.mark.points(1, part="silu")
def test_silu_does_not_modify_its_input(student, device):
    _check_unmodified(student, "silu", device)


# ----------------------------------------------------------------------------- sigmoid_backward
@pytest.mark.points(2, part="sigmoid_backward")
def test_sigmoid_backward_matches_autograd_in_float64(student, device):
    _check_backward(student, "sigmoid_backward", torch.sigmoid, _inputs(torch.float64, device))


@pytest.mark.points(1, part="sigmoid_backward")
def test_sigmoid_backward_float32_keeps_dtype_and_device(student, device):
    _check_backward(student, "sigmoid_backward", torch.sigmoid,
                    _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="sigmoid_backward")
def test_sigmoid_backward_is_stable_for_large_inputs(student, device):
    _check_backward_large(student, "sigmoid_backward", torch.sigmoid, device)


@pytest.mark.points(1, part="sigmoid_backward")
def test_sigmoid_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "sigmoid_backward", device, backward=True)


# ----------------------------------------------------------------------------- tanh_backward
@pytest.mark.points(2, part="tanh_backward")
def test_tanh_backward_matches_autograd_in_float64(student, device):
    _check_backward(student, "tanh_backward", torch.tanh, _inputs(torch.float64, device))


@pytest.mark.points(1, part="tanh_backward")
def test_tanh_backward_float32_keeps_dtype_and_device(student, device):
    _check_backward(student, "tanh_backward", torch.tanh, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="tanh_backward")
def test_tanh_backward_is_stable_for_large_inputs(student, device):
    _check_backward_large(student, "tanh_backward", torch.tanh, device)


@pytest.mark.points(1, part="tanh_backward")
def test_tanh_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "tanh_backward", device, backward=True)


# ----------------------------------------------------------------------------- relu_backward
@pytest.mark.points(2, part="relu_backward")
def test_relu_backward_matches_autograd_away_from_zero(student, device):
    xs = [x[x != 0] for x in _inputs(torch.float64, device)]
    xs.append(torch.tensor(LARGE, dtype=torch.float64, device=device))
    _check_backward(student, "relu_backward", F.relu, xs)


@pytest.mark.points(1, part="relu_backward")
def test_relu_backward_is_zero_at_zero(student, device):
    _check_backward_at_zero(student, "relu_backward", F.relu, device, "0")


@pytest.mark.points(1, part="relu_backward")
def test_relu_backward_float32_keeps_dtype_and_device(student, device):
    xs = [x[x != 0] for x in _inputs(torch.float32, device, seed=1)]
    _check_backward(student, "relu_backward", F.relu, xs)


@pytest.mark.points(1, part="relu_backward")
def test_relu_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "relu_backward", device, backward=True)


# ----------------------------------------------------------------------------- leaky_relu_backward
@pytest.mark.points(2, part="leaky_relu_backward")
def test_leaky_relu_backward_matches_autograd_for_several_slopes(student, device):
    xs = [x[x != 0] for x in _inputs(torch.float64, device)]
    _check_backward(student, "leaky_relu_backward", F.leaky_relu, xs)
    for slope in (0.2, 1.5):
        _check_backward(student, "leaky_relu_backward", lambda x, s=slope: F.leaky_relu(x, s),
                        xs, label=f"negative_slope={slope}", negative_slope=slope)


@pytest.mark.points(1, part="leaky_relu_backward")
def test_leaky_relu_backward_at_zero_is_the_negative_slope(student, device):
    _check_backward_at_zero(student, "leaky_relu_backward", F.leaky_relu, device,
                            "negative_slope")
    _check_backward_at_zero(student, "leaky_relu_backward", lambda x: F.leaky_relu(x, 0.2),
                            device, "negative_slope", negative_slope=0.2)


@pytest.mark.points(1, part="leaky_relu_backward")
def test_leaky_relu_backward_float32_keeps_dtype_and_device(student, device):
    xs = [x[x != 0] for x in _inputs(torch.float32, device, seed=1)]
    _check_backward(student, "leaky_relu_backward", lambda x: F.leaky_relu(x, 0.1), xs,
                    label="negative_slope=0.1", negative_slope=0.1)


@pytest.mark.points(1, part="leaky_relu_backward")
def test_leaky_relu_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "leaky_relu_backward", device, backward=True)


# ----------------------------------------------------------------------------- elu_backward
@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_matches_autograd_for_several_alphas(student, device):
    xs = [x[x != 0] for x in _inputs(torch.float64, device)]
    _check_backward(student, "elu_backward", F.elu, xs)
    for alpha in (0.5, 2.0):
        _check_backward(student, "elu_backward", lambda x, a=alpha: F.elu(x, a), xs,
                        label=f"alpha={alpha}", alpha=alpha)


@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_at_zero_is_alpha(student, device):
    _check_backward_at_zero(student, "elu_backward", lambda x: F.elu(x, 0.5), device,
                            "alpha", alpha=0.5)


@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_float32_keeps_dtype_and_device(student, device):
    _check_backward(student, "elu_backward", F.elu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_is_stable_for_large_inputs(student, device):
    _check_backward_large(student, "elu_backward", F.elu, device)


@pytest.mark.points(1, part="elu_backward")
def test_elu_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "elu_backward", device, backward=True)


# ----------------------------------------------------------------------------- gelu_backward
@pytest.mark.points(3, part="gelu_backward")
def test_gelu_backward_matches_autograd_of_the_exact_gelu(student, device):
    _check_backward(student, "gelu_backward", F.gelu, _inputs(torch.float64, device))


@pytest.mark.points(1, part="gelu_backward")
def test_gelu_backward_float32_keeps_dtype_and_device(student, device):
    _check_backward(student, "gelu_backward", F.gelu, _inputs(torch.float32, device, seed=1))


@pytest.mark.points(1, part="gelu_backward")
def test_gelu_backward_is_stable_for_large_inputs(student, device):
    _check_backward_large(student, "gelu_backward", F.gelu, device)


@pytest.mark.points(1, part="gelu_backward")
def test_gelu_backward_does_not_modify_its_inputs(student, device):
    _check_unmodified(student, "gelu_backward", device, backward=True)
