"""Hidden suite, a2 part 1: inverted dropout and the Dropout module (chapter 04_regularization).

Dropout (Srivastava et al., 2014, "Dropout: a simple way to prevent neural networks from
overfitting") in PyTorch's convention: ``p`` is the probability of *zeroing* an element, survivors
are scaled by 1/(1-p) during training ("inverted" dropout) and the function is the identity at
evaluation.  Random outputs are checked on properties: every value is 0 or x/(1-p) exactly, the
fraction of zeros is within a Hoeffding bound of p that a correct implementation leaves with
probability below 1e-9, and the same generator state gives the same output.
"""

from __future__ import annotations

import pytest
import torch

from autograder.grading.checks import (
    check_close,
    check_raises,
    check_tensor,
    check_unmodified,
    describe,
    hoeffding_halfwidth,
)
from autograder.grading.suites.a2_regularization._support import HALF_DTYPES, RTOL

SHAPE = (200, 500)  # 10^5 elements: the fraction of zeros is within 0.0103 of p


def _positive_input(shape=SHAPE, dtype=torch.float64, device="cpu", seed=0) -> torch.Tensor:
    """Values in [1, 2): a zero in the output can only come from dropping."""
    generator = torch.Generator().manual_seed(seed)
    x = 1 + torch.rand(shape, generator=generator, dtype=torch.float64)
    return x.to(device=device, dtype=dtype)


def _check_dropped(out, x: torch.Tensor, p: float, what: str) -> None:
    """Every value is 0 or x / (1 - p), and the fraction of zeros is p within Hoeffding's bound."""
    out = check_tensor(out, what, shape=x.shape, dtype=x.dtype, device=x.device)
    got = out.to("cpu", torch.float64)
    x64 = x.to("cpu", torch.float64)
    dropped = got == 0
    kept = ~dropped
    scaled = x64 / (1 - p)
    rtol = RTOL[x.dtype]
    error = (got[kept] - scaled[kept]).abs() / scaled[kept]
    if bool((~(error <= rtol)).any()):  # nan counts as wrong
        unscaled = (got[kept] - x64[kept]).abs().max() <= rtol * x64[kept].abs().max()
        hint = " (scale the kept values by 1 / (1 - p))" if unscaled else ""
        raise AssertionError(
            f"{what}: kept values should equal x / (1 - p), but "
            f"{int((~(error <= rtol)).sum())} of {int(kept.sum())} do not{hint}"
        )
    fraction = dropped.double().mean().item()
    if x.numel() and abs(fraction - p) > hoeffding_halfwidth(x.numel(), 1.0):
        hint = " (p is the probability of dropping, not of keeping)" if abs(
            fraction - (1 - p)) < 0.02 else ""
        raise AssertionError(
            f"{what}: zeroed a fraction {fraction:.3f} of the values, expected p = {p}{hint}"
        )


def _seeded(device, seed: int) -> torch.Generator:
    """A generator at a fixed seed: a submission's grade does not depend on the test order."""
    return torch.Generator(device=device).manual_seed(seed)


def _check_identity(out, x: torch.Tensor, what: str) -> None:
    out = check_tensor(out, what, shape=x.shape, dtype=x.dtype, device=x.device)
    if not torch.equal(out, x):
        raise AssertionError(f"{what} should return x unchanged")


# ----------------------------------------------------------------------------- dropout
@pytest.mark.points(2, part="dropout")
def test_dropout_outputs_zero_or_input_scaled_by_one_over_keep_probability(student, device):
    for p in (0.5, 0.2):
        x = _positive_input(device=device, seed=1)
        _check_dropped(student.dropout(x, p, generator=_seeded(device, 20)), x, p,
                       f"dropout(x, p={p})")


@pytest.mark.points(2, part="dropout")
def test_dropout_zeroes_a_fraction_p_of_the_values(student, device):
    for p in (0.1, 0.3, 0.8):
        x = _positive_input(device=device, seed=2)
        _check_dropped(student.dropout(x, p=p, training=True, generator=_seeded(device, 21)),
                       x, p, f"dropout(x, p={p}, training=True)")


@pytest.mark.points(1, part="dropout")
def test_dropout_default_p_is_one_half(student, device):
    x = _positive_input(device=device, seed=3)
    _check_dropped(student.dropout(x, generator=_seeded(device, 22)), x, 0.5,
                   "dropout(x) with the default p")


@pytest.mark.points(2, part="dropout")
def test_dropout_is_the_identity_when_not_training(student, device):
    x = _positive_input((50, 40), device=device, seed=4)
    for p in (0.5, 0.9, 1.0):
        _check_identity(student.dropout(x, p, training=False), x,
                        f"dropout(x, p={p}, training=False)")


@pytest.mark.points(1, part="dropout")
def test_dropout_with_p_zero_keeps_everything_and_p_one_drops_everything(student, device):
    x = _positive_input((50, 40), device=device, seed=5)
    _check_identity(student.dropout(x, 0.0), x, "dropout(x, p=0.0)")
    out = check_tensor(student.dropout(x, 1.0), "dropout(x, p=1.0)", shape=x.shape,
                       dtype=x.dtype, device=x.device)
    if not bool((out == 0).all()):
        raise AssertionError("dropout(x, p=1.0) should return zeros (and no nan)")


@pytest.mark.points(2, part="dropout")
def test_dropout_raises_value_error_for_p_outside_0_1(student, device):
    x = _positive_input((4, 5), device=device)
    for p in (-0.1, 1.001, 1.5):  # just outside [0, 1] too
        for training in (True, False):
            check_raises(lambda p=p, t=training: student.dropout(x, p, training=t),
                         "ValueError", f"dropout(x, p={p}, training={training})")


@pytest.mark.points(2, part="dropout")
def test_dropout_same_generator_state_gives_the_same_mask(student, device):
    x = _positive_input((60, 70), device=device, seed=6)

    def run(seed: int) -> torch.Tensor:
        generator = torch.Generator(device=device).manual_seed(seed)
        return check_tensor(student.dropout(x, 0.5, generator=generator),
                            "dropout(x, 0.5, generator=g)", shape=x.shape)

    first, again, other = run(7), run(7), run(8)
    if not torch.equal(first, again):
        raise AssertionError(
            "dropout gives different outputs for two generators in the same state; "
            "draw the mask with `generator`"
        )
    if torch.equal(first, other):
        raise AssertionError("dropout gives the same mask for differently seeded generators")


@pytest.mark.points(1, part="dropout")
def test_dropout_keeps_dtype_device_and_shape(student, device):
    for dtype, shape in [(torch.float32, (30, 40)), (torch.float64, (3, 4, 5, 6)),
                         (torch.float32, (1000,))]:
        x = _positive_input(shape, dtype=dtype, device=device, seed=9)
        what = f"dropout(x, p=0.25) on {describe(x)}"
        out = check_tensor(student.dropout(x, 0.25, generator=_seeded(device, 23)), what,
                           shape=shape, dtype=dtype, device=device)
        kept = out != 0
        check_close(out[kept], x[kept] / 0.75, what, rtol=1e-6, atol=0)


@pytest.mark.points(1, part="dropout")
def test_dropout_keeps_half_precision_without_upcasting(student, device):
    """float16/bfloat16 in, the same dtype out: a float32 mask would silently upcast."""
    for dtype in HALF_DTYPES:
        x = _positive_input((100, 100), dtype=dtype, device=device, seed=14)
        _check_dropped(student.dropout(x, 0.25, generator=_seeded(device, 24)), x, 0.25,
                       f"dropout(x, p=0.25) on {describe(x)}")


@pytest.mark.points(1, part="dropout")
def test_dropout_of_an_empty_tensor_is_an_empty_tensor(student, device):
    for shape in [(0,), (0, 5), (3, 0, 2)]:
        x = _positive_input(shape, device=device, seed=15)
        for p, training in [(0.5, True), (0.5, False), (1.0, True)]:
            what = f"dropout(x, p={p}, training={training}) on {describe(x)}"
            check_tensor(student.dropout(x, p, training=training), what, shape=shape,
                         dtype=x.dtype, device=device)


@pytest.mark.points(1, part="dropout")
def test_dropout_does_not_modify_its_input(student, device):
    """On every path: the defaults first, then p = 0, p = 1, eval mode and a generator."""
    x = _positive_input((40, 50), device=device, seed=10)
    for args, kwargs in [((), {}), ((0.0,), {}), ((1.0,), {}), ((0.5, False), {}),
                         ((0.3,), {"generator": _seeded(device, 25)})]:
        what = f"dropout(x, {', '.join(map(str, args))}{', generator=g' if kwargs else ''})"
        check_unmodified(student.call("dropout", x, *args, **kwargs), what, ["x"])


# ----------------------------------------------------------------------------- Dropout module
MODULE = "torch.nn.modules.module.Module"


def _module(student, p: float):
    layer = student.Dropout(p)
    names = getattr(layer, "type_names", None)
    if names is None or MODULE not in names:
        raise AssertionError("Dropout(p) should create an nn.Module (subclass torch.nn.Module)")
    return layer


@pytest.mark.points(1, part="Dropout")
def test_Dropout_is_an_nn_Module(student):
    _module(student, 0.5)


@pytest.mark.points(1.5, part="Dropout")
def test_Dropout_drops_with_probability_p_in_training_mode(student, device):
    for p in (0.3, 0.6):
        layer = _module(student, p)
        x = _positive_input(device=device, seed=11)
        _check_dropped(layer(x), x, p, f"Dropout({p}) in training mode")


@pytest.mark.points(0.5, part="Dropout")
def test_Dropout_default_p_is_one_half(student, device):
    layer = student.Dropout()
    x = _positive_input((50, 40), device=device, seed=16)
    _check_dropped(layer(x), x, 0.5, "Dropout() (the default p) in training mode")


@pytest.mark.points(1, part="Dropout")
def test_Dropout_is_the_identity_after_eval(student, device):
    layer = _module(student, 0.5)
    layer.eval()
    x = _positive_input((50, 40), device=device, seed=12)
    _check_identity(layer(x), x, "Dropout(0.5) after .eval()")


@pytest.mark.points(1, part="Dropout")
def test_Dropout_drops_again_after_train(student, device):
    layer = _module(student, 0.4)
    layer.eval()
    layer.train()
    x = _positive_input(device=device, seed=13)
    _check_dropped(layer(x), x, 0.4, "Dropout(0.4) after .eval() then .train()")


@pytest.mark.points(1, part="Dropout")
def test_Dropout_raises_value_error_for_p_outside_0_1(student):
    for p in (-0.5, 1.001, 1.5, 2.0):
        check_raises(lambda p=p: student.Dropout(p), "ValueError", f"Dropout({p})")
    for p in (0.0, 1.0):  # the ends are valid
        _module(student, p)
