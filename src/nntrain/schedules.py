"""Learning-rate schedules as pure functions of the step.

A schedule here is a plain function ``t -> lr`` of the step counter ``t >= 0``
(``t = 0`` is the learning rate of the first update).  Writing them this way
keeps each formula on one line, lets the book plot them without an optimizer,
and makes them easy to compose (:func:`warmup` wraps any schedule).  Use
:func:`functools.partial` to fix the hyperparameters and
:func:`to_torch_scheduler` to drive a ``torch.optim`` optimizer with one.

Each function equals the matching ``torch.optim.lr_scheduler`` class stepped
once per update (``scheduler.get_last_lr()`` after ``t`` calls to ``step()``),
which the tests check step by step.

Public names: step_lr, multistep_lr, cosine_lr, linear_lr, inverse_sqrt_lr,
constant_lr, warmup, cosine_restarts_lr, one_cycle_lr, linear_scaling_rule,
to_torch_scheduler, Schedule.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

import torch
from torch.optim.lr_scheduler import LRScheduler

__all__ = [
    "Schedule",
    "step_lr",
    "multistep_lr",
    "cosine_lr",
    "linear_lr",
    "inverse_sqrt_lr",
    "constant_lr",
    "warmup",
    "cosine_restarts_lr",
    "one_cycle_lr",
    "linear_scaling_rule",
    "to_torch_scheduler",
]

Schedule = Callable[[int], float]
"""A learning-rate schedule, a function of the step ``t >= 0`` returning the learning rate."""


def _check_step(t: int) -> None:
    if t < 0:
        raise ValueError(f"the step t must be >= 0, got {t}")


def step_lr(t: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    r"""Step decay: multiply the rate by ``gamma`` every ``step_size`` steps.

    .. math:: \alpha_t = \alpha_0 \, \gamma^{\lfloor t / s \rfloor}

    The classic ResNet recipe (He et al., 2016, "Deep Residual Learning for
    Image Recognition") divides the rate by 10 at fixed epochs.  Equals
    ``torch.optim.lr_scheduler.StepLR``.
    """
    _check_step(t)
    if step_size <= 0:
        raise ValueError(f"step_size must be positive, got {step_size}")
    return base_lr * gamma ** (t // step_size)


def multistep_lr(
    t: int, base_lr: float, milestones: Sequence[int], gamma: float = 0.1
) -> float:
    r"""Step decay at chosen milestones: one factor ``gamma`` per milestone passed.

    .. math:: \alpha_t = \alpha_0 \, \gamma^{\#\{m \in M : m \le t\}}

    e.g. milestones 30, 60, 90 (epochs) for ResNets (He et al., 2016).  A
    milestone listed twice counts twice, as in ``MultiStepLR``.
    """
    _check_step(t)
    return base_lr * gamma ** bisect_right(sorted(milestones), t)


def cosine_lr(t: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    r"""Cosine decay from ``base_lr`` to ``min_lr`` over ``total_steps`` steps.

    .. math:: \alpha_t = \alpha_{min} + \tfrac12(\alpha_0 - \alpha_{min})
              \left(1 + \cos\frac{\pi t}{T}\right), \quad t \le T

    and ``min_lr`` for ``t > T``.  Loshchilov & Hutter, 2017, "SGDR: Stochastic
    Gradient Descent with Warm Restarts".  Equals ``CosineAnnealingLR(T_max=T,
    eta_min=min_lr)`` for ``t <= T`` (torch's recursive form climbs back up
    afterwards; holding the minimum is what one wants at the end of training).
    """
    _check_step(t)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if t >= total_steps:
        return min_lr
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * t / total_steps))


def linear_lr(t: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    r"""Linear decay from ``base_lr`` to ``min_lr`` over ``total_steps`` steps.

    .. math:: \alpha_t = \alpha_0 + (\alpha_{min} - \alpha_0)\,\min(t, T)/T

    The schedule of BERT (Devlin et al., 2019, "BERT: Pre-training of Deep
    Bidirectional Transformers for Language Understanding").  Equals
    ``LinearLR(start_factor=1, end_factor=min_lr/base_lr, total_iters=T)``.
    """
    _check_step(t)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    return base_lr + (min_lr - base_lr) * min(t, total_steps) / total_steps


def inverse_sqrt_lr(t: int, base_lr: float, warmup_steps: int) -> float:
    r"""Linear warmup followed by inverse-square-root decay.

    .. math:: \alpha_t = \alpha_0 \min\!\left(\frac{s}{w}, \sqrt{\frac{w}{s}}\right),
              \quad s = t + 1

    The rate peaks at ``base_lr`` when ``s = w`` and then falls as
    :math:`1/\sqrt{s}`.  Vaswani et al., 2017, "Attention Is All You Need" (their
    formula, rescaled so that the peak is ``base_lr``).
    """
    _check_step(t)
    if warmup_steps <= 0:
        raise ValueError(f"warmup_steps must be positive, got {warmup_steps}")
    s = t + 1
    return base_lr * min(s / warmup_steps, math.sqrt(warmup_steps / s))


def constant_lr(t: int, base_lr: float) -> float:
    r"""The same rate at every step: :math:`\alpha_t = \alpha_0`.

    Often good enough (e.g. Brock et al., 2019, "Large Scale GAN Training for
    High Fidelity Natural Image Synthesis"), and the baseline to beat.
    """
    _check_step(t)
    return base_lr


def warmup(schedule: Schedule, warmup_steps: int, start_factor: float = 0.0) -> Schedule:
    r"""Prepend a linear warmup of ``warmup_steps`` steps to ``schedule``.

    .. math:: \alpha_t = \begin{cases}
              \alpha(0)\left(f + (1 - f)\,\frac{t}{w}\right) & t < w \\
              \alpha(t - w) & t \ge w \end{cases}

    where ``f = start_factor``.  Goyal et al., 2017, "Accurate, Large Minibatch
    SGD: Training ImageNet in 1 Hour" (gradual warmup).  Equals
    ``SequentialLR([LinearLR(start_factor=f, total_iters=w), sched],
    milestones=[w])`` where ``sched`` is the torch form of ``schedule``.
    """
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if not 0.0 <= start_factor <= 1.0:
        raise ValueError(f"start_factor must be in [0, 1], got {start_factor}")
    if warmup_steps == 0:
        return schedule
    peak = schedule(0)

    def warmed_up(t: int) -> float:
        _check_step(t)
        if t < warmup_steps:
            return peak * (start_factor + (1.0 - start_factor) * t / warmup_steps)
        return schedule(t - warmup_steps)

    return warmed_up


def cosine_restarts_lr(
    t: int, base_lr: float, T_0: int, T_mult: int = 1, min_lr: float = 0.0
) -> float:
    r"""Cosine annealing with warm restarts (SGDR).

    The rate follows a cosine from ``base_lr`` to ``min_lr`` over a cycle of
    length :math:`T_i`, then jumps back to ``base_lr``; cycles grow by
    ``T_mult`` (:math:`T_i = T_0 T_{mult}^i`):

    .. math:: \alpha_t = \alpha_{min} + \tfrac12(\alpha_0 - \alpha_{min})
              \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    with :math:`T_{cur}` the steps since the last restart.  Loshchilov & Hutter,
    2017, "SGDR: Stochastic Gradient Descent with Warm Restarts".  Equals
    ``CosineAnnealingWarmRestarts``.
    """
    _check_step(t)
    if T_0 <= 0 or T_mult < 1 or int(T_mult) != T_mult:
        raise ValueError(f"need T_0 > 0 and an integer T_mult >= 1, got {T_0}, {T_mult}")
    # Walk the cycles with integers: exact at the restart boundaries, where a
    # logarithm-based formula can land one step off.
    t_cur, t_i = t, T_0
    if T_mult == 1:
        t_cur = t % T_0
    else:
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * t_cur / t_i))


def one_cycle_lr(
    t: int,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float:
    r"""The one-cycle policy: warm up to ``max_lr``, then anneal far below the start.

    The rate goes from :math:`\alpha_{max}/d` up to :math:`\alpha_{max}` during
    the first ``pct_start`` of training, then down to
    :math:`\alpha_{max}/(d \cdot d_{final})`, each phase by a cosine (or linear)
    interpolation.  With ``three_phase`` it comes back down to the start value
    symmetrically before the final annealing.  Smith & Topin, 2019,
    "Super-Convergence: Very Fast Training of Neural Networks Using Large
    Learning Rates".  Equals ``OneCycleLR`` (learning rate only; this function
    does not cycle the momentum).
    """
    _check_step(t)
    if t > total_steps:
        raise ValueError(f"step {t} is past total_steps={total_steps}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
    else:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (total_steps - 1, max_lr, min_lr),
        ]
    start_step = 0.0
    for i, (end_step, start, end) in enumerate(phases):
        if t <= end_step or i == len(phases) - 1:
            pct = (t - start_step) / (end_step - start_step)
            if anneal_strategy == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (end - start) * pct + start
        start_step = end_step
    raise AssertionError("unreachable: the last phase always returns")


def linear_scaling_rule(base_lr: float, batch_size: int, base_batch_size: int = 256) -> float:
    r"""Scale the learning rate in proportion to the batch size.

    .. math:: \alpha = \alpha_{base} \cdot \frac{B}{B_{base}}

    "When the minibatch size is multiplied by k, multiply the learning rate by
    k" -- Goyal et al., 2017, "Accurate, Large Minibatch SGD: Training ImageNet
    in 1 Hour" (there with 0.1 for batch 256).
    """
    if batch_size <= 0 or base_batch_size <= 0:
        raise ValueError("batch sizes must be positive")
    return base_lr * batch_size / base_batch_size


class _FunctionScheduler(LRScheduler):
    """A torch LR scheduler whose rate at step ``t`` is ``schedule(t)``.

    The first param group gets ``schedule(t)``; every other group keeps its
    initial ratio to the first one (so per-group learning rates, e.g. a lower
    rate for a pretrained backbone, follow the same curve).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule) -> None:
        self.schedule = schedule
        super().__init__(optimizer)

    def _ratios(self) -> list[float]:
        ref = self.base_lrs[0]
        return [1.0 if ref == 0 else lr / ref for lr in self.base_lrs]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lr = float(self.schedule(self.last_epoch))
        return [lr * r for r in self._ratios()]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()


def to_torch_scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule) -> LRScheduler:
    """Wrap a schedule function as a ``torch.optim.lr_scheduler.LRScheduler``.

    Call ``scheduler.step()`` after each ``optimizer.step()``, as with any torch
    scheduler.  Creating it sets the optimizer's rate to ``schedule(0)``.  The
    first param group follows ``schedule`` exactly; other groups keep their
    initial ratio to it.
    """
    return _FunctionScheduler(optimizer, schedule)
