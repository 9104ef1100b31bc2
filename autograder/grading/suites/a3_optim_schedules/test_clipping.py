"""Hidden suite, a3 part 3: gradient clipping by global norm (chapter 09_clipping).

Oracle: ``torch.nn.utils.clip_grad_norm_`` on float64 copies of the same gradients (Pascanu et
al., 2013, "On the difficulty of training recurrent neural networks"): the total norm is taken
over all gradients together, every gradient is scaled in place by min(1, max_norm / (total +
1e-6)), and the total norm *before* clipping is returned.  Leaving out torch's 1e-6 changes the
scaled gradients by ~1e-7 relative, inside the tolerance.
"""

from __future__ import annotations

import math

import pytest
import torch

from autograder.grading.checks import (
    calling,
    check_close,
    check_scalar,
    check_tensor,
    describe_call,
)

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _grads(device, dtype=torch.float64, scale=3.0, seed=0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [(scale * torch.randn(shape, generator=generator, dtype=torch.float64)).to(
        device=device, dtype=dtype) for shape in SHAPES]


def _torch_clip(grads: list[torch.Tensor], max_norm: float,
                norm_type: float) -> tuple[float, list[torch.Tensor]]:
    """(total norm before clipping, clipped gradients) from torch, in float64 on the CPU."""
    params = []
    for grad in grads:
        parameter = torch.nn.Parameter(torch.zeros(grad.shape, dtype=torch.float64))
        parameter.grad = grad.detach().to("cpu", torch.float64).clone()
        params.append(parameter)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return total.item(), [p.grad for p in params]


def _clip(student, grads: list[torch.Tensor], max_norm: float, norm_type: float | None = None,
          check_norm: bool = True, check_grads: bool = True) -> None:
    kwargs = {} if norm_type is None else {"norm_type": norm_type}
    label = describe_call("clip_grad_norm", (grads, max_norm), kwargs, ("grads", "max_norm"))
    info = calling(label, student.call, "clip_grad_norm", grads, max_norm, **kwargs)
    total, clipped = _torch_clip(grads, max_norm, 2.0 if norm_type is None else norm_type)
    rtol = 1e-9 if grads[0].dtype == torch.float64 else 1e-5
    if check_norm:
        check_scalar(info.value, total, label, rtol=rtol,
                     atol=1e-12)
    if check_grads:
        after = info.args_after[0]
        if not isinstance(after, list | tuple) or len(after) != len(grads):
            raise AssertionError(f"{label} should keep the list of gradients")
        unchanged = all(torch.equal(a, g) for a, g in zip(after, grads, strict=True))
        should_change = any(not torch.equal(c, g.to("cpu", torch.float64))
                            for c, g in zip(clipped, grads, strict=True))
        if unchanged and should_change:
            raise AssertionError(f"{label} should scale the gradient tensors in place")
        for index, (got, want, grad) in enumerate(zip(after, clipped, grads, strict=True)):
            what = f"gradient {index} after {label}"
            check_tensor(got, what, shape=grad.shape, dtype=grad.dtype, device=grad.device)
            check_close(got, want, what, rtol=max(rtol, 1e-5), atol=1e-12)


@pytest.mark.points(2, part="clip_grad_norm")
def test_clip_grad_norm_returns_the_total_norm_before_clipping(student, device):
    for max_norm in (1.0, 0.5, 100.0):
        _clip(student, _grads(device), max_norm, check_grads=False)
    check_scalar(student.clip_grad_norm([], 1.0), 0.0, "clip_grad_norm([], max_norm=1.0)",
                 rtol=0, atol=0)  # an empty list has total norm 0


@pytest.mark.points(2.5, part="clip_grad_norm")
def test_clip_grad_norm_scales_the_gradients_in_place_to_max_norm(student, device):
    for max_norm, seed in [(1.0, 1), (5.0, 2)]:
        _clip(student, _grads(device, seed=seed), max_norm, check_norm=False)
    _clip(student, _grads(device, seed=10)[:1], 1.0, check_norm=False)  # a list of one


@pytest.mark.points(1.5, part="clip_grad_norm")
def test_clip_grad_norm_leaves_gradients_below_max_norm_unchanged(student, device):
    _clip(student, _grads(device, seed=3), 1e3)
    grads = _grads(device, scale=0.01, seed=4)
    _clip(student, grads, 1.0)


@pytest.mark.points(1, part="clip_grad_norm")
def test_clip_grad_norm_with_the_infinity_norm(student, device):
    _clip(student, _grads(device, seed=5), 0.7, norm_type=math.inf)
    _clip(student, _grads(device, seed=6), 0.7, norm_type=float("inf"))


@pytest.mark.points(1, part="clip_grad_norm")
def test_clip_grad_norm_with_norm_types_1_and_3(student, device):
    _clip(student, _grads(device, seed=7), 2.0, norm_type=1.0)
    _clip(student, _grads(device, seed=8), 2.0, norm_type=3.0)


@pytest.mark.points(1, part="clip_grad_norm")
def test_clip_grad_norm_uses_one_norm_over_all_gradients_together(student, device):
    """Each gradient has norm 0.8 < 1 but together they have 0.8 sqrt(3) > 1."""
    grads = [torch.full(shape, 0.8 / math.sqrt(math.prod(shape)), dtype=torch.float64,
                        device=device) for shape in SHAPES]
    _clip(student, grads, 1.0)


@pytest.mark.points(1, part="clip_grad_norm")
def test_clip_grad_norm_float32_keeps_dtype_and_device(student, device):
    _clip(student, _grads(device, torch.float32, seed=9), 1.0)


@pytest.mark.points(1, part="clip_grad_norm")
def test_clip_grad_norm_of_tiny_gradients_scales_by_max_norm_over_total_plus_at_most_1e_6(
        student, device):
    """Near torch's 1e-6 the convention shows: torch scales by max_norm / (total + 1e-6), code
    without the 1e-6 by max_norm / total; any factor between the two is accepted (one factor
    for every gradient, positive: the gradients keep their direction)."""
    for total in (5e-7, 2e-6, 1e-5):
        grads = _grads(device, seed=11)
        norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
        grads = [g * (total / norm) for g in grads]
        max_norm = total / 4
        label = describe_call("clip_grad_norm", (grads, max_norm), {}, ("grads", "max_norm"))
        info = calling(label, student.call, "clip_grad_norm", grads, max_norm)
        after = info.args_after[0]
        if not isinstance(after, list | tuple) or len(after) != len(grads):
            raise AssertionError(f"{label} should keep the list of gradients")
        low, high = max_norm / (total + 1e-6), max_norm / total
        for index, (got, grad) in enumerate(zip(after, grads, strict=True)):
            what = f"gradient {index} after {label} (total norm {total:g})"
            check_tensor(got, what, shape=grad.shape)
            ratio = got.detach().to("cpu", torch.float64) / grad.to("cpu", torch.float64)
            bad = ~((ratio >= low * (1 - 1e-9)) & (ratio <= high * (1 + 1e-9)))  # nan: bad
            if bool(bad.any()):
                worst = float(ratio[bad].reshape(-1)[0])
                raise AssertionError(
                    f"{what} is the input times {worst:.6g}; expected one factor between "
                    f"max_norm / (total + 1e-6) = {low:.6g} (torch) and max_norm / total = "
                    f"{high:.6g}"
                )
