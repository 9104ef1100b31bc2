"""Hidden suite, a3 part 1: learning-rate schedules (chapters 07_schedules and 08_large_batch).

Each schedule is a pure function of the step t >= 0.  Oracle: the learning rate that torch's
own scheduler gives its optimiser at the same step, read before each ``scheduler.step()``:
StepLR, MultiStepLR, CosineAnnealingLR (Loshchilov and Hutter, 2017, "SGDR: Stochastic Gradient
Descent with Warm Restarts"), LinearLR, CosineAnnealingWarmRestarts, and SequentialLR(LinearLR,
schedule) for warmup (Goyal et al., 2017, "Accurate, Large Minibatch SGD: Training ImageNet in
1 Hour", which also gives the linear scaling rule).  The inverse square root schedule (Vaswani et
al., 2017, "Attention Is All You Need") has no torch scheduler; its closed form is the oracle.
``warmup`` receives its schedule as a ``Table`` of values that the sandbox turns into a callable.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import pytest
import torch
from torch.optim import lr_scheduler

from autograder.errors import StudentError
from autograder.grading.checks import (
    as_number,
    calling,
    check_raises,
    check_scalar,
    describe,
    how_far,
    shown,
)
from autograder.sandbox.inside.transport import Table

RTOL = 1e-9


class _LearningRateHolder(torch.optim.Optimizer):
    """Just what a torch LR scheduler reads and writes: one parameter group with an ``lr``.

    ``Optimizer.__init__`` imports ``torch._dynamo`` on first use (seconds of CPU per grading
    process) and a scheduler needs none of the rest; tests/test_suites_spec.py checks that the
    learning rates equal those of a scheduler driving a real SGD optimiser.
    """

    def __init__(self, lr: float) -> None:  # deliberately not calling Optimizer.__init__
        self.defaults = {"lr": lr}
        self.param_groups = [{"lr": lr, "params": []}]
        self.state = {}

    def step(self, closure=None) -> None:
        return None


def _torch_lrs(make: Callable[[torch.optim.Optimizer], object], base_lr: float,
               steps: int) -> list[float]:
    """Learning rates of steps 0 .. steps-1 of a torch scheduler."""
    optimizer = _LearningRateHolder(base_lr)
    scheduler = make(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _check_schedule(get: Callable[[int], object], expected: list[float], what: str,
                    start: int = 0) -> None:
    """get(t) == expected[t] for t = start, ..., len(expected) - 1 (nan and inf are wrong).

    Near 0 (a schedule ending at min_lr = 0) the relative tolerance would ask for more than
    float64 gives: the absolute floor is 1e-15, or 4 ulp of the schedule's largest value when
    that is larger (a correct closed form at base_lr = 10 is off by about 2e-15 there)."""
    floor = max(1e-15, 4 * sys.float_info.epsilon * max((abs(e) for e in expected), default=0))
    for t in range(start, len(expected)):
        label = f"{what} at t={t}"
        try:
            value = get(t)
        except StudentError as error:  # name the call, not "a `function` object"
            raise AssertionError(f"{label} raised {error.type_name}: {error.message}"[:400]
                                 + f" (expected {shown(expected[t], RTOL)})") from None
        if isinstance(value, bool) or not isinstance(value, int | float | torch.Tensor):
            raise AssertionError(f"{label} should return a float, got {describe(value)}")
        got = as_number(value, label)
        if not abs(got - expected[t]) <= floor + RTOL * abs(expected[t]):
            neighbours = [e for e in (expected[t - 1] if t else None,
                                      expected[t + 1] if t + 1 < len(expected) else None)
                          if e is not None]
            hint = (" (off by one step?)" if any(abs(got - e) <= 1e-12 + RTOL * abs(e)
                                                 for e in neighbours) else "")
            raise AssertionError(f"{label} returned {shown(got, RTOL)}, expected "
                                 f"{shown(expected[t], RTOL)} "
                                 f"({how_far(got, expected[t], RTOL, floor)}){hint}")


def _check_value_errors(student, name: str, cases: list[tuple], **kwargs) -> None:
    for args in cases:
        check_raises(lambda a=args: getattr(student, name)(3, *a, **kwargs), "ValueError",
                     _signature(name, *args, **kwargs).replace("(t,", "(t=3,"))


def _call(student, name: str, *args, **kwargs) -> Callable[[int], object]:
    return lambda t: getattr(student, name)(t, *args, **kwargs)


def _signature(name: str, *args, **kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}(t, {', '.join(parts)})"


# ----------------------------------------------------------------------------- step_lr
@pytest.mark.points(3, part="step_lr")
def test_step_lr_matches_torch_steplr(student):
    for base, step_size, gamma in [(0.1, 3, 0.5), (1.0, 1, 0.9), (0.05, 7, 0.1)]:
        expected = _torch_lrs(lambda o, s=step_size, g=gamma: lr_scheduler.StepLR(o, s, g),
                              base, 22)
        _check_schedule(_call(student, "step_lr", base, step_size, gamma), expected,
                        _signature("step_lr", base, step_size, gamma))


@pytest.mark.points(1, part="step_lr")
def test_step_lr_default_gamma_is_0_1(student):
    expected = _torch_lrs(lambda o: lr_scheduler.StepLR(o, 4), 0.2, 13)
    _check_schedule(_call(student, "step_lr", 0.2, 4), expected, _signature("step_lr", 0.2, 4))


# ----------------------------------------------------------------------------- multistep_lr
@pytest.mark.points(2, part="multistep_lr")
def test_multistep_lr_matches_torch_multisteplr(student):
    for base, milestones, gamma in [(0.1, [3, 7, 12], 0.3), (1.0, [1], 0.5),
                                    (0.5, [5, 6, 15], 0.1)]:
        expected = _torch_lrs(
            lambda o, m=milestones, g=gamma: lr_scheduler.MultiStepLR(o, m, g), base, 20)
        _check_schedule(_call(student, "multistep_lr", base, milestones, gamma), expected,
                        _signature("multistep_lr", base, milestones, gamma))


@pytest.mark.points(1, part="multistep_lr")
def test_multistep_lr_default_gamma_is_0_1(student):
    expected = _torch_lrs(lambda o: lr_scheduler.MultiStepLR(o, [2, 5]), 0.3, 9)
    _check_schedule(_call(student, "multistep_lr", 0.3, [2, 5]), expected,
                    _signature("multistep_lr", 0.3, [2, 5]))


@pytest.mark.points(1, part="multistep_lr")
def test_multistep_lr_counts_unsorted_and_repeated_milestones_as_torch(student):
    """MultiStepLR counts milestones (a Counter): order does not matter, a repeat counts twice."""
    for base, milestones, gamma in [(0.1, [12, 3, 7], 0.3), (1.0, [4, 4, 9], 0.5),
                                    (0.2, [6, 2, 6, 2], 0.5)]:
        expected = _torch_lrs(
            lambda o, m=milestones, g=gamma: lr_scheduler.MultiStepLR(o, m, g), base, 16)
        _check_schedule(_call(student, "multistep_lr", base, milestones, gamma), expected,
                        _signature("multistep_lr", base, milestones, gamma))


# ----------------------------------------------------------------------------- cosine_lr
@pytest.mark.points(3, part="cosine_lr")
def test_cosine_lr_matches_torch_cosine_annealing_up_to_total_steps(student):
    for base, total, min_lr in [(0.1, 20, 0.0), (1.0, 7, 0.1), (0.5, 1, 0.05)]:
        expected = _torch_lrs(
            lambda o, T=total, m=min_lr: lr_scheduler.CosineAnnealingLR(o, T, m), base,
            total + 1)
        _check_schedule(_call(student, "cosine_lr", base, total, min_lr=min_lr), expected,
                        _signature("cosine_lr", base, total, min_lr=min_lr))


@pytest.mark.points(1, part="cosine_lr")
def test_cosine_lr_stays_at_min_lr_after_total_steps(student):
    for base, total, min_lr in [(0.1, 10, 0.01), (1.0, 5, 0.0)]:
        expected = [min_lr] * (3 * total)
        _check_schedule(_call(student, "cosine_lr", base, total, min_lr=min_lr), expected,
                        _signature("cosine_lr", base, total, min_lr=min_lr), start=total)
    expected = _torch_lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, 8), 0.3, 9) + [0.0] * 3
    _check_schedule(_call(student, "cosine_lr", 0.3, 8), expected, _signature("cosine_lr", 0.3, 8))


@pytest.mark.points(1, part="cosine_lr")
def test_cosine_lr_raises_value_error_for_non_positive_total_steps(student):
    _check_value_errors(student, "cosine_lr", [(0.1, 0), (0.1, -5)])


# ----------------------------------------------------------------------------- linear_lr
def _linear_oracle(base: float, total: int, min_lr: float, steps: int) -> list[float]:
    return _torch_lrs(
        lambda o: lr_scheduler.LinearLR(o, 1.0, min_lr / base, total), base, steps)


@pytest.mark.points(3, part="linear_lr")
def test_linear_lr_matches_torch_linearlr_up_to_total_steps(student):
    for base, total, min_lr in [(0.1, 20, 0.0), (1.0, 7, 0.1), (0.5, 1, 0.05)]:
        expected = _linear_oracle(base, total, min_lr, total + 1)
        _check_schedule(_call(student, "linear_lr", base, total, min_lr=min_lr), expected,
                        _signature("linear_lr", base, total, min_lr=min_lr))
    expected = _linear_oracle(0.4, 10, 0.0, 11)
    _check_schedule(_call(student, "linear_lr", 0.4, 10), expected,
                    _signature("linear_lr", 0.4, 10))


@pytest.mark.points(1, part="linear_lr")
def test_linear_lr_stays_at_min_lr_after_total_steps(student):
    for base, total, min_lr in [(0.1, 10, 0.01), (1.0, 5, 0.0)]:
        expected = _linear_oracle(base, total, min_lr, 3 * total)
        _check_schedule(_call(student, "linear_lr", base, total, min_lr=min_lr), expected,
                        _signature("linear_lr", base, total, min_lr=min_lr), start=total)


# ----------------------------------------------------------------------------- inverse_sqrt_lr
def _inverse_sqrt(base: float, warmup: int, steps: int) -> list[float]:
    return [base * min((t + 1) / warmup, math.sqrt(warmup / (t + 1))) for t in range(steps)]


@pytest.mark.points(2, part="inverse_sqrt_lr")
def test_inverse_sqrt_lr_rises_linearly_to_base_lr_during_warmup(student):
    for base, warmup in [(1.0, 10), (0.3, 4)]:
        expected = _inverse_sqrt(base, warmup, warmup)
        _check_schedule(_call(student, "inverse_sqrt_lr", base, warmup), expected,
                        _signature("inverse_sqrt_lr", base, warmup))


@pytest.mark.points(2, part="inverse_sqrt_lr")
def test_inverse_sqrt_lr_decays_as_one_over_sqrt_step_after_warmup(student):
    for base, warmup in [(1.0, 10), (0.3, 4), (0.01, 1)]:
        expected = _inverse_sqrt(base, warmup, 5 * warmup + 10)
        _check_schedule(_call(student, "inverse_sqrt_lr", base, warmup), expected,
                        _signature("inverse_sqrt_lr", base, warmup), start=warmup)


@pytest.mark.points(1, part="inverse_sqrt_lr")
def test_inverse_sqrt_lr_raises_value_error_for_non_positive_warmup(student):
    _check_value_errors(student, "inverse_sqrt_lr", [(1.0, 0), (1.0, -3)])


# ----------------------------------------------------------------------------- cosine_restarts_lr
def _restarts_oracle(base: float, t0: int, t_mult: int, min_lr: float, steps: int) -> list[float]:
    return _torch_lrs(
        lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, t0, t_mult, min_lr), base, steps)


@pytest.mark.points(3, part="cosine_restarts_lr")
def test_cosine_restarts_lr_matches_torch_with_equal_periods(student):
    for base, t0, min_lr in [(0.1, 5, None), (1.0, 7, 0.1), (0.3, 1, 0.0)]:  # None: default 0
        kwargs = {} if min_lr is None else {"min_lr": min_lr}
        expected = _restarts_oracle(base, t0, 1, min_lr or 0.0, 4 * t0 + 2)
        _check_schedule(_call(student, "cosine_restarts_lr", base, t0, **kwargs),
                        expected, _signature("cosine_restarts_lr", base, t0, **kwargs))


@pytest.mark.points(2, part="cosine_restarts_lr")
def test_cosine_restarts_lr_matches_torch_with_growing_periods(student):
    for base, t0, t_mult, min_lr in [(0.1, 3, 2, 0.001), (1.0, 2, 3, 0.0), (0.5, 1, 2, 0.01)]:
        expected = _restarts_oracle(base, t0, t_mult, min_lr, 40)
        _check_schedule(
            _call(student, "cosine_restarts_lr", base, t0, T_mult=t_mult, min_lr=min_lr),
            expected,
            _signature("cosine_restarts_lr", base, t0, T_mult=t_mult, min_lr=min_lr))


@pytest.mark.points(1, part="cosine_restarts_lr")
def test_cosine_restarts_lr_restarts_at_base_lr(student):
    restarts = [0, 4, 12, 28]  # T_0 = 4, T_mult = 2: periods 4, 8, 16
    for t in restarts:
        got = as_number(student.cosine_restarts_lr(t, 0.5, 4, T_mult=2),
                        f"cosine_restarts_lr(t={t}, 0.5, 4, T_mult=2)")
        if abs(got - 0.5) > RTOL * 0.5:
            raise AssertionError(
                f"cosine_restarts_lr(t={t}, 0.5, 4, T_mult=2) should restart at base_lr; "
                f"got {got:.6g}"
            )


@pytest.mark.points(1, part="cosine_restarts_lr")
def test_cosine_restarts_lr_raises_value_error_for_bad_periods(student):
    _check_value_errors(student, "cosine_restarts_lr", [(0.1, 0), (0.1, -2)])
    _check_value_errors(student, "cosine_restarts_lr", [(0.1, 5)], T_mult=0)


# ----------------------------------------------------------------------------- warmup
def _warmup_oracle(make: Callable, base: float, warmup: int, start_factor: float,
                   steps: int) -> list[float]:
    """SequentialLR(LinearLR(start_factor -> 1 over warmup steps), schedule) in torch."""
    return _torch_lrs(
        lambda o: lr_scheduler.SequentialLR(
            o, [lr_scheduler.LinearLR(o, start_factor, 1.0, warmup), make(o)], [warmup]),
        base, steps)


def _warmed(student, values: list[float], warmup: int, **kwargs):
    schedule = student.warmup(Table(values), warmup, **kwargs)
    if not callable(schedule):
        raise AssertionError(f"warmup should return a schedule (a function of t), "
                             f"got {describe(schedule)}")
    return schedule


WARMUP_CASES = [
    # (torch scheduler after warmup, base lr, warmup steps, start_factor, steps checked)
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 20), 0.1, 5, 0.1, 26),
    (lambda o: lr_scheduler.StepLR(o, 4, 0.5), 1.0, 6, 0.25, 24),
    (lambda o: lr_scheduler.ConstantLR(o, 1.0, 0), 0.3, 3, 0.5, 10),
    (lambda o: lr_scheduler.StepLR(o, 2, 0.5), 0.4, 3, 1.0, 9),  # start_factor 1 is valid: flat
]


def _check_warmup(student, make, base, warmup, start_factor, steps, start=0, stop=None):
    expected = _warmup_oracle(make, base, warmup, start_factor, steps)
    values = _torch_lrs(make, base, steps)  # the schedule itself, from t = 0
    schedule = _warmed(student, values, warmup, start_factor=start_factor)
    what = f"warmup(schedule, warmup_steps={warmup}, start_factor={start_factor})"
    _check_schedule(schedule, expected[: stop or steps], what, start=start)


@pytest.mark.points(1, part="warmup")
def test_warmup_starts_at_start_factor_times_the_first_lr(student):
    for make, base, warmup, start_factor, steps in WARMUP_CASES:
        _check_warmup(student, make, base, warmup, start_factor, steps, stop=1)


@pytest.mark.points(2, part="warmup")
def test_warmup_rises_linearly_as_torch_linearlr(student):
    for make, base, warmup, start_factor, steps in WARMUP_CASES:
        _check_warmup(student, make, base, warmup, start_factor, steps, stop=warmup + 1)
    # start_factor 0 (torch's LinearLR needs a positive factor): t / warmup_steps * schedule(0)
    values = _torch_lrs(lambda o: lr_scheduler.StepLR(o, 3, 0.5), 0.2, 12)
    schedule = _warmed(student, values, 4)
    _check_schedule(schedule, [0.2 * t / 4 for t in range(4)] + [0.2],
                    "warmup(schedule, warmup_steps=4) with the default start_factor")


@pytest.mark.points(2, part="warmup")
def test_warmup_then_runs_the_schedule_from_its_start(student):
    for make, base, warmup, start_factor, steps in WARMUP_CASES:
        _check_warmup(student, make, base, warmup, start_factor, steps, start=warmup)


@pytest.mark.points(1, part="warmup")
def test_warmup_with_zero_steps_is_the_schedule_itself(student):
    values = _torch_lrs(lambda o: lr_scheduler.StepLR(o, 3, 0.5), 0.2, 12)
    _check_schedule(_warmed(student, values, 0), values, "warmup(schedule, warmup_steps=0)")


@pytest.mark.points(1, part="warmup")
def test_warmup_raises_value_error_for_bad_arguments(student):
    values = [0.1] * 5
    for warmup_steps, kwargs in [(-1, {}), (3, {"start_factor": 1.5}), (3, {"start_factor": -0.5}),
                                 (3, {"start_factor": 1.001})]:
        settings = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        check_raises(lambda w=warmup_steps, k=kwargs: student.warmup(Table(values), w, **k),
                     "ValueError", f"warmup(schedule, {warmup_steps}{settings})")


# ----------------------------------------------------------------------------- linear scaling
@pytest.mark.points(1, part="linear_scaling_rule")
def test_linear_scaling_rule_scales_with_batch_size_over_256(student):
    for base, batch in [(0.1, 1024), (0.1, 256), (0.4, 64), (0.05, 8192), (0.2, 1)]:
        call = f"linear_scaling_rule({base}, {batch})"
        got = calling(call, student.linear_scaling_rule, base, batch)
        check_scalar(got, base * batch / 256, call, rtol=RTOL, atol=0.0)


@pytest.mark.points(1, part="linear_scaling_rule")
def test_linear_scaling_rule_uses_the_base_batch_size(student):
    for base, batch, reference in [(0.1, 512, 128), (0.02, 32, 64), (1.0, 100, 100),
                                   (0.001, 32, 1)]:
        call = f"linear_scaling_rule({base}, {batch}, base_batch_size={reference})"
        got = calling(call, student.linear_scaling_rule, base, batch,
                      base_batch_size=reference)
        check_scalar(got, base * batch / reference, call, rtol=RTOL, atol=0.0)
