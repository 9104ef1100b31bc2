"""Hidden suite, a1 part 2: weight initialisation (chapter 03_init).

Oracles: ``torch.nn.init``'s fan and gain computations, and the distributions its initialisers
define (Glorot and Bengio, 2010, "Understanding the difficulty of training deep feedforward neural
networks"; He et al., 2015, "Delving deep into rectifiers").  The random fills are checked on
properties only, on ~10^5 samples: the uniform bound exactly (every value inside, the largest
within 0.1% of it), the spread and mean within bounds that a correct fill violates with
probability below 1e-9 whatever the seed (Hoeffding for bounded samples, Laurent-Massart for
chi-square), the normal shape by the fraction within one standard deviation, and reproducibility
with the ``generator`` argument.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import init as torch_init

from autograder.grading.checks import (
    as_number,
    call,
    check_raises,
    check_tensor,
    chi_square_mean_bounds,
    describe_call,
    gaussian_mean_halfwidth,
    hoeffding_halfwidth,
)

LINEAR = (384, 256)  # fan_in 256, fan_out 384
CONV = (256, 128, 2, 2)  # fan_in 512, fan_out 1024
BIG = (1024, 1024)  # for a spread pinned to +-0.5 %
NORMAL_WITHIN_ONE_STD = math.erf(1 / math.sqrt(2))  # 0.6827; a uniform fill gives 0.577


def _torch_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return torch_init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _fill(student, name: str, shape: tuple[int, ...], device: torch.device,
          dtype: torch.dtype = torch.float64, **kwargs) -> torch.Tensor:
    """The tensor returned by ``student.name(tensor, **kwargs)``, checked for shape/dtype/device.

    Unless the caller passes one, the fill gets a generator at a fixed seed, so a submission's
    grade does not depend on the order in which the tests run.
    """
    tensor = torch.zeros(shape, dtype=dtype, device=device)
    kwargs.setdefault("generator", torch.Generator(device=device).manual_seed(2024))
    out = call(student, name, tensor, arg_names=("tensor",), **kwargs)
    what = f"the tensor returned by {describe_call(name, (tensor,), _shown(kwargs))}"
    return check_tensor(out, what, shape=shape).to("cpu", torch.float64)


def _shown(kwargs: dict) -> dict:
    """The arguments worth showing in a message (the generator is always there)."""
    return {k: v for k, v in kwargs.items() if k != "generator"}


def _check_finite(values: torch.Tensor, what: str) -> None:
    bad = ~torch.isfinite(values.reshape(-1))
    if bool(bad.any()):
        raise AssertionError(f"{what}: {int(bad.sum())} of {values.numel()} values are nan or "
                             f"inf (the first at flat index {int(bad.nonzero()[0])})")


def _settings(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "default arguments"


def _check_uniform(values: torch.Tensor, bound: float, what: str) -> None:
    """U(-bound, bound): every value inside, the extremes close to the bound, the spread right."""
    _check_finite(values, what)
    n = values.numel()
    largest = values.abs().max().item()
    if largest > bound * (1 + 1e-9):
        raise AssertionError(f"{what}: some values lie outside the uniform bound (too wide): "
                             f"the largest |value| is {largest:.4g}, the bound is {bound:.4g}")
    # P(max |w| < 0.999 bound) = 0.999^n < 1e-50 for n > 1.2e5
    if largest < 0.999 * bound:
        raise AssertionError(f"{what}: the values do not reach the uniform bound (too narrow): "
                             f"the largest |value| is {largest:.4g}, the bound is {bound:.4g}")
    second_moment = values.pow(2).mean().item()
    tolerance = hoeffding_halfwidth(n, bound**2)
    if abs(second_moment - bound**2 / 3) > tolerance:
        raise AssertionError(f"{what}: the spread of the values is wrong: mean square "
                             f"{second_moment:.4g}, expected {bound**2 / 3:.4g} ± {tolerance:.2g}")
    mean = values.mean().item()
    if abs(mean) > hoeffding_halfwidth(n, 2 * bound):
        raise AssertionError(f"{what}: the values are not centred on 0 (mean {mean:.3g})")


def _check_normal_std(values: torch.Tensor, std: float, what: str) -> None:
    """N(0, std^2): mean and mean square within bounds a correct fill breaks with P < 1e-9."""
    _check_finite(values, what)
    n = values.numel()
    lo, hi = chi_square_mean_bounds(n)
    ratio = values.pow(2).mean().item() / std**2
    if not lo <= ratio <= hi:
        direction = "large" if ratio > hi else "small"
        raise AssertionError(f"{what}: the standard deviation is too {direction}: "
                             f"{std * ratio**0.5:.4g}, expected {std:.4g}")
    mean = values.mean().item()
    if abs(mean) > gaussian_mean_halfwidth(n, std):
        raise AssertionError(f"{what}: the values are not centred on 0 (mean {mean:.3g})")


def _check_normal_shape(values: torch.Tensor, std: float, what: str) -> None:
    """The fraction of values within one standard deviation is that of a normal distribution."""
    _check_finite(values, what)
    within = (values.abs() <= std).double().mean().item()
    if abs(within - NORMAL_WITHIN_ONE_STD) > hoeffding_halfwidth(values.numel(), 1.0):
        raise AssertionError(f"{what}: the values are not normally distributed: {within:.3f} "
                             f"of them lie within one std of 0, expected "
                             f"{NORMAL_WITHIN_ONE_STD:.3f}")


def _check_in_place(student, name: str, device: torch.device, **kwargs) -> None:
    """Fills the given tensor, returns it, keeps dtype/device.

    The tensor requires grad, like a weight: filling it in place outside ``torch.no_grad()``
    raises in the student's code, so this also checks that autograd records nothing.
    """
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        weight = torch.full((64, 48), 7.0, dtype=dtype, device=device, requires_grad=True)
        what = describe_call(name, (weight,), kwargs, ("tensor",))
        info = student.call(name, weight, **kwargs)
        check_tensor(info.value, f"the value returned by {what}", shape=weight.shape,
                     dtype=dtype, device=device)
        if 0 not in info.modified:
            raise AssertionError(f"{what} should fill its tensor argument in place")
        if info.returned_arg != 0:
            raise AssertionError(f"{what} should return the tensor it filled (the same object)")


def _check_generator(student, name: str, device: torch.device, **kwargs) -> None:
    """The same generator state gives the same values; another seed gives other values."""

    def fill(seed: int) -> torch.Tensor:
        generator = torch.Generator(device=device).manual_seed(seed)
        return _fill(student, name, (32, 16), device, generator=generator, **kwargs)

    first, again, other = fill(1234), fill(1234), fill(4321)
    if not torch.equal(first.nan_to_num(7.0), again.nan_to_num(7.0)):
        raise AssertionError(
            f"{name} gives different values for two generators in the same state; "
            "pass `generator` to the random fill"
        )
    if torch.equal(first, other):
        raise AssertionError(f"{name} gives the same values for differently seeded generators")


def _check_value_errors(student, name: str, device: torch.device,
                        cases: list[tuple[tuple[int, ...], dict]]) -> None:
    for shape, kwargs in cases:
        tensor = torch.zeros(shape, device=device)
        check_raises(lambda t=tensor, k=kwargs: getattr(student, name)(t, **k), "ValueError",
                     f"{name} for a tensor of shape {shape} with {_settings(kwargs)}")


# ----------------------------------------------------------------------------- fans
def _check_fans(student, shapes: list[tuple[int, ...]]) -> None:
    for shape in shapes:
        what = f"calculate_fan_in_and_fan_out({shape})"
        got = call(student, "calculate_fan_in_and_fan_out", shape)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise AssertionError(f"{what} should return a pair (fan_in, fan_out)")
        fan_in, fan_out = _torch_fans(shape)
        got_in, got_out = (as_number(v, what) for v in got)
        if (got_in, got_out) == (fan_out, fan_in) and fan_in != fan_out:
            raise AssertionError(f"{what} returns (fan_out, fan_in): the order is swapped")
        if got_in != fan_in:
            raise AssertionError(f"{what} has fan_in {got_in:g}, expected {fan_in}")
        if got_out != fan_out:
            raise AssertionError(f"{what} has fan_out {got_out:g}, expected {fan_out}")


@pytest.mark.points(1, part="calculate_fan_in_and_fan_out")
def test_fans_of_a_linear_weight_are_in_and_out_features(student):
    _check_fans(student, [(20, 30), (1, 5), (7, 1)])


@pytest.mark.points(2, part="calculate_fan_in_and_fan_out")
def test_fans_of_a_conv2d_weight_include_the_receptive_field(student):
    _check_fans(student, [(64, 3, 3, 3), (32, 16, 5, 5), (8, 4, 1, 1), (6, 2, 3, 5)])


@pytest.mark.points(1, part="calculate_fan_in_and_fan_out")
def test_fans_of_conv1d_and_conv3d_weights(student):
    _check_fans(student, [(8, 4, 5), (4, 2, 3, 3, 3)])


@pytest.mark.points(1, part="calculate_fan_in_and_fan_out")
def test_fans_of_fewer_than_two_dimensions_raise_value_error(student):
    for shape in [(10,), ()]:
        check_raises(lambda s=shape: student.calculate_fan_in_and_fan_out(s), "ValueError",
                     f"calculate_fan_in_and_fan_out({shape})")


# ----------------------------------------------------------------------------- gain
def _check_gains(student, cases: list[tuple[str, float | None]]) -> None:
    for nonlinearity, param in cases:
        args = (nonlinearity,) if param is None else (nonlinearity, param)
        what = f"calculate_gain{args!r}".replace(",)", ")")
        got = as_number(call(student, "calculate_gain", *args), what)
        expected = float(torch_init.calculate_gain(nonlinearity, param))
        if not abs(got - expected) <= 1e-12 * expected:
            raise AssertionError(f"{what} is {got:.6g}, expected {expected:.6g}")


@pytest.mark.points(1, part="calculate_gain")
def test_gain_is_one_for_linear_conv_and_sigmoid(student):
    names = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid"]
    _check_gains(student, [(name, None) for name in names])


@pytest.mark.points(1, part="calculate_gain")
def test_gain_of_tanh_is_5_over_3_and_of_relu_sqrt_2(student):
    _check_gains(student, [("tanh", None), ("relu", None)])


@pytest.mark.points(1, part="calculate_gain")
def test_gain_of_leaky_relu_uses_the_negative_slope(student):
    _check_gains(student, [("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
                           ("leaky_relu", 1.0), ("leaky_relu", 3)])


@pytest.mark.points(1, part="calculate_gain")
def test_gain_of_selu_is_3_over_4(student):
    _check_gains(student, [("selu", None)])


@pytest.mark.points(1, part="calculate_gain")
def test_gain_raises_value_error_for_an_unknown_nonlinearity_or_a_bad_slope(student):
    for args in [("softmax",), ("Relu",), ("leaky_relu", "0.2"), ("leaky_relu", True)]:
        check_raises(lambda a=args: student.calculate_gain(*a), "ValueError",
                     f"calculate_gain{args!r}".replace(",)", ")"))


# ----------------------------------------------------------------------------- xavier_uniform_
def _xavier_std(shape: tuple[int, ...], gain: float) -> float:
    fan_in, fan_out = _torch_fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


@pytest.mark.points(1, part="xavier_uniform_")
def test_xavier_uniform_fills_in_place_and_returns_the_tensor(student, device):
    _check_in_place(student, "xavier_uniform_", device)


@pytest.mark.points(1, part="xavier_uniform_")
def test_xavier_uniform_bound_is_gain_times_sqrt_6_over_fan_sum(student, device):
    for shape, gain in [(LINEAR, 1.0), (LINEAR, 2.0), (CONV, 5 / 3)]:
        values = _fill(student, "xavier_uniform_", shape, device, gain=gain)
        _check_uniform(values, math.sqrt(3) * _xavier_std(shape, gain),
                       f"xavier_uniform_ for shape {shape}, gain={gain:.4g}")


@pytest.mark.points(1, part="xavier_uniform_")
def test_xavier_uniform_default_gain_is_one(student, device):
    values = _fill(student, "xavier_uniform_", CONV, device)
    _check_uniform(values, math.sqrt(3) * _xavier_std(CONV, 1.0),
                   f"xavier_uniform_ for shape {CONV} with the default gain")


@pytest.mark.points(1, part="xavier_uniform_")
def test_xavier_uniform_uses_the_generator(student, device):
    _check_generator(student, "xavier_uniform_", device)


@pytest.mark.points(1, part="xavier_uniform_")
def test_xavier_uniform_raises_value_error_for_fewer_than_two_dimensions(student, device):
    _check_value_errors(student, "xavier_uniform_", device, [((10,), {})])


# ----------------------------------------------------------------------------- xavier_normal_
@pytest.mark.points(1, part="xavier_normal_")
def test_xavier_normal_fills_in_place_and_returns_the_tensor(student, device):
    _check_in_place(student, "xavier_normal_", device)


@pytest.mark.points(0.5, part="xavier_normal_")
def test_xavier_normal_std_is_gain_times_sqrt_2_over_fan_sum(student, device):
    for shape, gain in [(LINEAR, 1.0), (LINEAR, 2.0), (CONV, 5 / 3)]:
        kwargs = {} if gain is None else {"gain": gain}
        values = _fill(student, "xavier_normal_", shape, device, **kwargs)
        _check_normal_std(values, _xavier_std(shape, gain or 1.0),
                          f"xavier_normal_ for shape {shape}, {_settings(kwargs)}")


@pytest.mark.points(0.5, part="xavier_normal_")
def test_xavier_normal_default_gain_is_one(student, device):
    """2^20 samples: the std is pinned to +-0.5 %, so a default gain 1 % off is caught."""
    values = _fill(student, "xavier_normal_", BIG, device, dtype=torch.float32)
    _check_normal_std(values, _xavier_std(BIG, 1.0),
                      f"xavier_normal_ for shape {BIG} with the default gain")


@pytest.mark.points(1, part="xavier_normal_")
def test_xavier_normal_values_are_normally_distributed(student, device):
    values = _fill(student, "xavier_normal_", CONV, device, gain=2.0)
    _check_normal_shape(values, _xavier_std(CONV, 2.0), "xavier_normal_")


@pytest.mark.points(1, part="xavier_normal_")
def test_xavier_normal_uses_the_generator(student, device):
    _check_generator(student, "xavier_normal_", device)


@pytest.mark.points(1, part="xavier_normal_")
def test_xavier_normal_raises_value_error_for_fewer_than_two_dimensions(student, device):
    _check_value_errors(student, "xavier_normal_", device, [((10,), {})])


# ----------------------------------------------------------------------------- kaiming
def _kaiming_std(shape: tuple[int, ...], a: float = 0.0, mode: str = "fan_in",
                 nonlinearity: str = "leaky_relu") -> float:
    fan_in, fan_out = _torch_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return torch_init.calculate_gain(nonlinearity, a) / math.sqrt(fan)


KAIMING_MODES = [{}, {"mode": "fan_in"}, {"mode": "fan_out"}]
KAIMING_GAINS = [
    {"nonlinearity": "relu"},
    {"a": 0.2},
    {"a": 0.2, "nonlinearity": "leaky_relu"},
    {"nonlinearity": "tanh", "mode": "fan_out"},
    {"nonlinearity": "linear"},
]
KAIMING_ERRORS = [
    ((8, 4), {"mode": "fan_avg"}),
    ((8, 4), {"nonlinearity": "softmax"}),
    ((10,), {}),
]


def _check_zero_size(student, name: str, device: torch.device) -> None:
    """A weight with a zero-size dimension comes back unchanged (its fan may be 0)."""
    for shape, kwargs in [((0, 4), {}), ((4, 0), {"nonlinearity": "relu"}),
                          ((3, 0, 2, 2), {"mode": "fan_out"})]:
        tensor = torch.zeros(shape, device=device)
        what = describe_call(name, (tensor,), kwargs, ("tensor",))
        out = call(student, name, tensor, arg_names=("tensor",), **kwargs)
        check_tensor(out, f"the value returned by {what}", shape=shape, dtype=tensor.dtype)


def _check_kaiming_uniform(student, device, kwargs: dict, shape=CONV) -> None:
    values = _fill(student, "kaiming_uniform_", shape, device, **kwargs)
    _check_uniform(values, math.sqrt(3) * _kaiming_std(shape, **kwargs),
                   f"kaiming_uniform_ for shape {shape}, {_settings(kwargs)}")


def _check_kaiming_normal(student, device, kwargs: dict, shape=CONV) -> None:
    values = _fill(student, "kaiming_normal_", shape, device, **kwargs)
    _check_normal_std(values, _kaiming_std(shape, **kwargs),
                      f"kaiming_normal_ for shape {shape}, {_settings(kwargs)}")


@pytest.mark.points(1, part="kaiming_uniform_")
def test_kaiming_uniform_fills_in_place_and_returns_the_tensor(student, device):
    _check_in_place(student, "kaiming_uniform_", device)


@pytest.mark.points(1, part="kaiming_uniform_")
def test_kaiming_uniform_bound_uses_the_fan_of_the_mode(student, device):
    for kwargs in KAIMING_MODES:
        _check_kaiming_uniform(student, device, kwargs)


@pytest.mark.points(1, part="kaiming_uniform_")
def test_kaiming_uniform_bound_uses_the_gain_of_the_nonlinearity(student, device):
    for kwargs in KAIMING_GAINS:
        _check_kaiming_uniform(student, device, kwargs)


@pytest.mark.points(0.5, part="kaiming_uniform_")
def test_kaiming_uniform_of_a_linear_weight(student, device):
    _check_kaiming_uniform(student, device, {"nonlinearity": "relu"}, shape=LINEAR)
    _check_kaiming_uniform(student, device, {"mode": "fan_out"}, shape=LINEAR)


@pytest.mark.points(0.5, part="kaiming_uniform_")
def test_kaiming_uniform_uses_the_generator(student, device):
    _check_generator(student, "kaiming_uniform_", device, nonlinearity="relu")


@pytest.mark.points(1, part="kaiming_uniform_")
def test_kaiming_uniform_raises_value_error_for_bad_arguments(student, device):
    _check_value_errors(student, "kaiming_uniform_", device, KAIMING_ERRORS)


@pytest.mark.points(1, part="kaiming_normal_")
def test_kaiming_normal_fills_in_place_and_returns_the_tensor(student, device):
    _check_in_place(student, "kaiming_normal_", device)


@pytest.mark.points(1, part="kaiming_normal_")
def test_kaiming_normal_std_uses_the_fan_of_the_mode(student, device):
    for kwargs in KAIMING_MODES:
        _check_kaiming_normal(student, device, kwargs)
    _check_kaiming_normal(student, device, {"mode": "fan_out"}, shape=LINEAR)


@pytest.mark.points(1, part="kaiming_normal_")
def test_kaiming_normal_std_uses_the_gain_of_the_nonlinearity(student, device):
    for kwargs in KAIMING_GAINS:
        _check_kaiming_normal(student, device, kwargs)


@pytest.mark.points(1, part="kaiming_normal_")
def test_kaiming_normal_values_are_normally_distributed(student, device):
    values = _fill(student, "kaiming_normal_", CONV, device, nonlinearity="relu")
    _check_normal_shape(values, _kaiming_std(CONV, nonlinearity="relu"), "kaiming_normal_")


@pytest.mark.points(0.5, part="kaiming_normal_")
def test_kaiming_normal_uses_the_generator(student, device):
    _check_generator(student, "kaiming_normal_", device, nonlinearity="relu")


@pytest.mark.points(0.5, part="kaiming_normal_")
def test_kaiming_normal_raises_value_error_for_bad_arguments(student, device):
    _check_value_errors(student, "kaiming_normal_", device, KAIMING_ERRORS)


@pytest.mark.points(1, part="kaiming_uniform_")
def test_kaiming_uniform_returns_a_zero_size_tensor_unchanged(student, device):
    _check_zero_size(student, "kaiming_uniform_", device)


@pytest.mark.points(1, part="kaiming_normal_")
def test_kaiming_normal_returns_a_zero_size_tensor_unchanged(student, device):
    _check_zero_size(student, "kaiming_normal_", device)
