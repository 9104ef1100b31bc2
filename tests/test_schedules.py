"""nntrain.schedules against torch.optim.lr_scheduler, step by step."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from torch.optim import lr_scheduler as tl

from nntrain import schedules as S


def _dummy_optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def _torch_lrs(make_scheduler, base_lr: float, steps: int) -> list[float]:
    """The rate torch uses for updates 0, 1, ..., steps-1."""
    opt = _dummy_optimizer(base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == pytest.approx(lrs[-1], rel=1e-12, abs=1e-15)
        opt.step()
        sched.step()
    return lrs


def _assert_matches(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-14), f"step {t}: {a} vs torch {b}"


@pytest.mark.parametrize(("step_size", "gamma"), [(7, 0.1), (3, 0.5), (1, 0.9)])
def test_step_lr_matches_torch(step_size, gamma):
    steps = 40
    theirs = _torch_lrs(lambda o: tl.StepLR(o, step_size, gamma), 0.3, steps)
    _assert_matches([S.step_lr(t, 0.3, step_size, gamma) for t in range(steps)], theirs)


@pytest.mark.parametrize("milestones", [[5, 12, 30], [3, 3, 10], [20, 4]])
def test_multistep_lr_matches_torch(milestones):
    steps = 35
    theirs = _torch_lrs(lambda o: tl.MultiStepLR(o, milestones, 0.3), 0.1, steps)
    ours = [S.multistep_lr(t, 0.1, milestones, 0.3) for t in range(steps)]
    _assert_matches(ours, theirs)


@pytest.mark.parametrize(("total", "min_lr"), [(30, 0.0), (17, 0.01), (1, 0.0)])
def test_cosine_lr_matches_torch_closed_form_then_holds_min(total, min_lr):
    theirs = _torch_lrs(lambda o: tl.CosineAnnealingLR(o, total, eta_min=min_lr), 0.2, total + 1)
    _assert_matches([S.cosine_lr(t, 0.2, total, min_lr) for t in range(total + 1)], theirs)
    assert S.cosine_lr(total, 0.2, total, min_lr) == pytest.approx(min_lr, abs=1e-15)
    for t in range(total, total + 20):
        assert S.cosine_lr(t, 0.2, total, min_lr) == min_lr


@pytest.mark.parametrize(("total", "min_lr"), [(25, 0.0), (10, 0.02)])
def test_linear_lr_matches_torch(total, min_lr):
    base = 0.1
    theirs = _torch_lrs(
        lambda o: tl.LinearLR(o, start_factor=1.0, end_factor=min_lr / base, total_iters=total),
        base,
        total + 10,
    )
    _assert_matches([S.linear_lr(t, base, total, min_lr) for t in range(total + 10)], theirs)


@pytest.mark.parametrize(("T_0", "T_mult", "min_lr"), [(10, 1, 0.0), (5, 2, 0.001), (3, 3, 0.0)])
def test_cosine_restarts_matches_torch(T_0, T_mult, min_lr):
    steps = 80
    theirs = _torch_lrs(
        lambda o: tl.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min=min_lr), 0.5, steps
    )
    ours = [S.cosine_restarts_lr(t, 0.5, T_0, T_mult, min_lr) for t in range(steps)]
    _assert_matches(ours, theirs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"pct_start": 0.25, "anneal_strategy": "linear"},
        {"three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0},
        {"three_phase": True, "anneal_strategy": "linear", "pct_start": 0.4},
    ],
)
def test_one_cycle_matches_torch(kwargs):
    total, max_lr = 50, 0.8
    theirs = _torch_lrs(
        lambda o: tl.OneCycleLR(o, max_lr, total_steps=total, cycle_momentum=False, **kwargs),
        0.1,  # OneCycleLR overrides the optimizer's own rate
        total,
    )
    _assert_matches([S.one_cycle_lr(t, max_lr, total, **kwargs) for t in range(total)], theirs)
    with pytest.raises(ValueError):
        S.one_cycle_lr(total + 1, max_lr, total, **kwargs)


@pytest.mark.parametrize(
    ("name", "torch_after", "ours_after"),
    [
        (
            "cosine",
            lambda o: tl.CosineAnnealingLR(o, 30),
            lambda base: partial(S.cosine_lr, base_lr=base, total_steps=30),
        ),
        (
            "step",
            lambda o: tl.StepLR(o, 8, 0.5),
            lambda base: partial(S.step_lr, base_lr=base, step_size=8, gamma=0.5),
        ),
    ],
)
@pytest.mark.parametrize("start_factor", [0.1, 0.5, 1.0])
def test_warmup_matches_sequential_lr(name, torch_after, ours_after, start_factor):
    base, w = 0.4, 6

    def make(o):
        first = tl.LinearLR(o, start_factor=start_factor, end_factor=1.0, total_iters=w)
        return tl.SequentialLR(o, [first, torch_after(o)], milestones=[w])

    theirs = _torch_lrs(make, base, 36)
    schedule = S.warmup(ours_after(base), w, start_factor)
    _assert_matches([schedule(t) for t in range(36)], theirs)


def test_warmup_from_zero_rises_linearly_to_the_schedule():
    sched = S.warmup(lambda t: 1.0 - t / 100, 10)  # start_factor=0: the first step has lr 0
    assert [sched(t) for t in range(11)] == pytest.approx([t / 10 for t in range(10)] + [1.0])
    assert sched(15) == pytest.approx(0.95)
    assert S.warmup(math.sqrt, 0) is math.sqrt


def test_inverse_sqrt_lr_exact_values():
    base, w = 2.0, 4
    # s = t + 1: linear rise s/w up to s = w, then sqrt(w/s)
    expected = [base * min(s / w, math.sqrt(w / s)) for s in range(1, 50)]
    assert [S.inverse_sqrt_lr(t, base, w) for t in range(49)] == pytest.approx(expected, rel=1e-15)
    assert S.inverse_sqrt_lr(w - 1, base, w) == base  # the peak
    assert S.inverse_sqrt_lr(4 * w - 1, base, w) == pytest.approx(base / 2)  # 1/sqrt(4)
    assert max(S.inverse_sqrt_lr(t, base, w) for t in range(100)) == base


def test_constant_and_linear_scaling_rule():
    assert all(S.constant_lr(t, 0.03) == 0.03 for t in range(10))
    assert S.linear_scaling_rule(0.1, 256) == pytest.approx(0.1)
    assert S.linear_scaling_rule(0.1, 8192) == pytest.approx(3.2)
    assert S.linear_scaling_rule(0.1, 64, base_batch_size=32) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        S.linear_scaling_rule(0.1, 0)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError):
        S.step_lr(-1, 0.1, 5)
    with pytest.raises(ValueError):
        S.step_lr(3, 0.1, 0)
    with pytest.raises(ValueError):
        S.cosine_lr(3, 0.1, 0)
    with pytest.raises(ValueError):
        S.inverse_sqrt_lr(3, 0.1, 0)
    with pytest.raises(ValueError):
        S.cosine_restarts_lr(3, 0.1, 5, T_mult=0)
    with pytest.raises(ValueError):
        S.warmup(partial(S.constant_lr, base_lr=1.0), 5, start_factor=1.5)


def test_to_torch_scheduler_follows_the_schedule_for_every_group():
    p1, p2 = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.01}], lr=0.1)
    schedule = S.warmup(partial(S.cosine_lr, base_lr=0.1, total_steps=20), 5)
    sched = S.to_torch_scheduler(opt, schedule)
    for t in range(30):
        assert opt.param_groups[0]["lr"] == pytest.approx(schedule(t), rel=1e-12, abs=1e-15)
        assert opt.param_groups[1]["lr"] == pytest.approx(schedule(t) / 10, rel=1e-12, abs=1e-15)
        assert sched.get_last_lr()[0] == pytest.approx(schedule(t), rel=1e-12, abs=1e-15)
        opt.step()
        sched.step()
