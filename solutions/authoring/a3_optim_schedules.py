# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] role="intro"
# # Assignment 3 — Optimisers, learning-rate schedules and gradient clipping
#
# This assignment goes with four chapters of the course book:
#
# - **Chapter 6, Optimisers** (`book/06_optim.md`): SGD with momentum and Nesterov momentum,
#   AdaGrad, RMSProp, Adam with bias correction, and AdamW's decoupled weight decay.
# - **Chapter 7, Learning-rate schedules** (`book/07_schedules.md`): step, cosine, linear, inverse
#   square root, cosine with restarts, and warmup.
# - **Chapter 8, Large-batch training** (`book/08_large_batch.md`): the linear scaling rule.
# - **Chapter 9, Gradient clipping** (`book/09_clipping.md`): clipping by the global norm.
#
# You will write the schedules as pure functions of the step, the update rules of four optimisers
# as pure functions of the weights, gradients and state, and gradient clipping; then you plot the
# schedules and watch the optimisers race on a badly conditioned valley.
#
# ## Conventions (the hidden tests check them, as said below)
#
# - **Schedules** are pure functions of the step `t >= 0` (an integer) that return a Python
#   `float`.  They match PyTorch's `torch.optim.lr_scheduler` classes step by step:
#   `step_lr` = `StepLR`, `multistep_lr` = `MultiStepLR`, `cosine_lr` = `CosineAnnealingLR` for
#   `t <= total_steps` (and stays at `min_lr` afterwards, where PyTorch would climb again),
#   `cosine_restarts_lr` = `CosineAnnealingWarmRestarts`, and `warmup(schedule, w, start_factor)` =
#   `SequentialLR` of `LinearLR(start_factor, total_iters=w)` followed by the schedule.
# - **Optimisers** are update rules `rule(w, dw, state, **hyperparameters) -> (w_next, state)`.
#   `state` is a dict (pass `{}` for the first step, then the state the rule returned), with the
#   same keys as PyTorch's optimiser state (`"momentum_buffer"`, `"sum"`, `"square_avg"`,
#   `"exp_avg"`, `"exp_avg_sq"`, `"step"`).  One call equals one `optimizer.step()` of the PyTorch
#   optimiser with the same hyperparameters, also when the learning rate changes from one call to
#   the next (a schedule): keep torch's buffers, not buffers already scaled by the rate.  With
#   `momentum = 0` the state stays empty.  The rules **never modify `w`, `dw` or any tensor of the
#   state they receive**: they return new tensors, of `w`'s dtype and device.  The state dict
#   itself is yours: a rule may return the dict it received (with new tensors stored under its
#   keys) or a new dict; what it must not do is write into a tensor it was given
#   (`state["exp_avg"].mul_(beta1)`, also through a view).  The grader compares the very tensors
#   the rule received, before and after the call.
# - `clip_grad_norm(grads, max_norm, norm_type)` is the exception: like
#   `torch.nn.utils.clip_grad_norm_`, it scales the list of gradient tensors **in place** and
#   returns the total norm from before clipping.
# - Invalid hyperparameters raise `ValueError`, as PyTorch does (a negative learning rate, a beta
#   outside $[0, 1)$, Nesterov without momentum, a non-positive period, ...).  The hidden tests
#   grade those of `cosine_lr`, `inverse_sqrt_lr`, `cosine_restarts_lr`, `warmup` and the
#   optimisers; those of `step_lr`, `multistep_lr`, `linear_lr` and `linear_scaling_rule` are
#   good practice and not graded.
#
# ## How to check your work
#
# Run the test cell under each function for quick feedback, then the whole notebook with
# `python -m autograder validate <this notebook>` or the **Validate** button of JupyterLab's
# nbgrader toolbar.  The visible tests are not the grade: the hidden suite is more thorough.

# %% [markdown] role="grading"
# The table of points and the list of forbidden names are generated from autograder/spec.py.

# %% role="imports"
import math
from collections.abc import Callable

import torch

# %% [markdown]
# ## Part 1 — Learning-rate schedules (Chapters 7 and 8)
#
# ### Step decay
#
# `step_lr`: multiply the rate by `gamma` every `step_size` steps, $\eta_t = \eta_0\,
# \gamma^{\lfloor t / s \rfloor}$.  `multistep_lr`: multiply by `gamma` at each milestone, so
# $\eta_t = \eta_0\,\gamma^{m(t)}$ with $m(t)$ the number of milestones $\le t$ (a milestone
# listed twice counts twice, as in PyTorch).  A negative `t` or a non-positive `step_size` raises
# `ValueError`.

# %% role="answer"
def step_lr(t: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """StepLR: base_lr * gamma ** (t // step_size)."""
    ### BEGIN SOLUTION
    _check_step(t)
    if step_size <= 0:
        raise ValueError(f"step_size must be positive, got {step_size}")
    return float(base_lr * gamma ** (t // step_size))


def _check_step(t: int) -> None:
    """Schedules are defined for steps t >= 0."""
    if t < 0:
        raise ValueError(f"the step t must be >= 0, got {t}")
    ### END SOLUTION


# %% role="test"
import torch.optim.lr_scheduler as schedulers


def torch_lrs(make_scheduler, steps, base_lr=0.1):
    """The learning rate of PyTorch's scheduler at steps 0, 1, ..., steps - 1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def assert_same_lrs(ours, expected):
    """The two lists of learning rates agree to 1e-9 (relative)."""
    assert len(ours) == len(expected), f"{len(ours)} learning rates, expected {len(expected)}"
    for t, (a, b) in enumerate(zip(ours, expected, strict=True)):
        assert math.isclose(a, b, rel_tol=1e-9), f"step {t}: got {a}, PyTorch gives {b}"


expected = torch_lrs(lambda opt: schedulers.StepLR(opt, step_size=7, gamma=0.5), 40)
ours = [step_lr(t, 0.1, step_size=7, gamma=0.5) for t in range(40)]
assert_same_lrs(ours, expected)
assert isinstance(step_lr(3, 0.1, 7), float), "a schedule returns a Python float"
try:
    step_lr(-1, 0.1, 7)
except ValueError:
    pass
else:
    raise AssertionError("a negative step should raise ValueError")
print("step_lr: visible tests passed")

# %% role="answer"
def multistep_lr(
    t: int, base_lr: float, milestones: list[int], gamma: float = 0.1
) -> float:
    """MultiStepLR: base_lr * gamma ** (number of milestones <= t)."""
    ### BEGIN SOLUTION
    _check_step(t)
    passed = sum(1 for milestone in milestones if milestone <= t)
    return float(base_lr * gamma**passed)
    ### END SOLUTION


# %% role="test"
milestones = [5, 12, 12, 30]
expected = torch_lrs(lambda opt: schedulers.MultiStepLR(opt, milestones, gamma=0.3), 40)
ours = [multistep_lr(t, 0.1, milestones, gamma=0.3) for t in range(40)]
assert_same_lrs(ours, expected)
print("multistep_lr: visible tests passed")

# %% [markdown]
# ### Cosine and linear decay
#
# Loshchilov & Hutter (2017), *SGDR: Stochastic Gradient Descent with Warm Restarts*: over $T$
# steps, $\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi t / T))$, then
# $\eta_{\min}$ for $t > T$.  Linear decay goes in a straight line from $\eta_0$ at $t = 0$ to
# $\eta_{\min}$ at $t = T$ and stays there.  A non-positive `total_steps` raises `ValueError`.

# %% role="answer"
def cosine_lr(t: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Cosine annealing from base_lr to min_lr over total_steps, then min_lr (Loshchilov, 2017)."""
    ### BEGIN SOLUTION
    _check_step(t)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if t >= total_steps:
        return float(min_lr)
    return float(min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2)
    ### END SOLUTION


# %% role="test"
expected = torch_lrs(lambda opt: schedulers.CosineAnnealingLR(opt, T_max=25, eta_min=0.01), 26)
ours = [cosine_lr(t, 0.1, 25, min_lr=0.01) for t in range(26)]
assert_same_lrs(ours, expected)
assert cosine_lr(40, 0.1, 25, min_lr=0.01) == 0.01, "after total_steps the rate stays at min_lr"
print("cosine_lr: visible tests passed")

# %% role="answer"
def linear_lr(t: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Linear decay from base_lr at t = 0 to min_lr at t = total_steps, then min_lr."""
    ### BEGIN SOLUTION
    _check_step(t)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if t >= total_steps:
        return float(min_lr)
    return float(base_lr + (min_lr - base_lr) * t / total_steps)
    ### END SOLUTION


# %% role="test"
assert linear_lr(0, 0.1, 10) == 0.1, "linear_lr starts at base_lr"
assert linear_lr(10, 0.1, 10) == 0.0, "linear_lr reaches min_lr at t = total_steps"
assert math.isclose(linear_lr(5, 0.1, 10, min_lr=0.02), 0.06), "halfway is the mean of the ends"
assert linear_lr(50, 0.1, 10, min_lr=0.02) == 0.02, "linear_lr stays at min_lr after the end"
expected = torch_lrs(lambda opt: schedulers.LinearLR(opt, 1.0, 0.2, total_iters=10), 15)
ours = [linear_lr(t, 0.1, 10, min_lr=0.02) for t in range(15)]
assert_same_lrs(ours, expected)
print("linear_lr: visible tests passed")

# %% [markdown]
# ### Inverse square root
#
# The Transformer's schedule (Vaswani et al., 2017, *Attention Is All You Need*), scaled so that
# its peak is `base_lr`: with $s = t + 1$ and $w$ warm-up steps,
# $\eta_t = \eta_0\,\min(s / w, \sqrt{w / s})$: a linear rise over the first $w$ steps, then decay
# as $1/\sqrt{s}$.  A non-positive `warmup_steps` raises `ValueError`.

# %% role="answer"
def inverse_sqrt_lr(t: int, base_lr: float, warmup_steps: int) -> float:
    """base_lr * min(s / w, sqrt(w / s)) with s = t + 1 (Vaswani et al., 2017)."""
    ### BEGIN SOLUTION
    _check_step(t)
    if warmup_steps <= 0:
        raise ValueError(f"warmup_steps must be positive, got {warmup_steps}")
    s = t + 1
    return float(base_lr * min(s / warmup_steps, math.sqrt(warmup_steps / s)))
    ### END SOLUTION


# %% role="test"
assert math.isclose(inverse_sqrt_lr(0, 1.0, 4), 0.25), "t = 0 is s = 1: base * 1 / w"
assert math.isclose(inverse_sqrt_lr(3, 1.0, 4), 1.0), "the peak is base_lr at s = w"
assert math.isclose(inverse_sqrt_lr(15, 1.0, 4), 0.5), "t = 15 is s = 16: base * sqrt(4 / 16)"
print("inverse_sqrt_lr: visible tests passed")

# %% [markdown]
# ### Cosine with warm restarts
#
# SGDR restarts the cosine: the first cycle lasts $T_0$ steps, each next one $T_\text{mult}$ times
# longer.  Find the cycle that contains `t` and the position $t_\text{cur}$ in it (a loop that
# subtracts the cycle lengths is exact; `math.log` is not), then apply the cosine formula with
# $T_i$, the length of that cycle: $\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 +
# \cos(\pi\,t_\text{cur} / T_i))$.  `T_0` must be a positive integer and `T_mult` an integer
# $\ge 1$ (`ValueError` otherwise).

# %% role="answer"
def cosine_restarts_lr(
    t: int, base_lr: float, T_0: int, T_mult: int = 1, min_lr: float = 0.0
) -> float:
    """CosineAnnealingWarmRestarts: cosine cycles of T_0, T_0 * T_mult, ... steps (SGDR)."""
    ### BEGIN SOLUTION
    _check_step(t)
    if not isinstance(T_0, int) or T_0 <= 0:
        raise ValueError(f"T_0 must be a positive integer, got {T_0}")
    if not isinstance(T_mult, int) or T_mult < 1:
        raise ValueError(f"T_mult must be an integer >= 1, got {T_mult}")
    cycle, t_cur = T_0, t
    if T_mult == 1:
        t_cur = t % T_0
    else:
        while t_cur >= cycle:
            t_cur -= cycle
            cycle *= T_mult
    return float(min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t_cur / cycle)) / 2)
    ### END SOLUTION


# %% role="test"
for t_0, t_mult in ((10, 1), (5, 2), (3, 3)):
    expected = torch_lrs(
        lambda opt, t_0=t_0, t_mult=t_mult: schedulers.CosineAnnealingWarmRestarts(
            opt, t_0, t_mult, eta_min=0.001), 60)
    ours = [cosine_restarts_lr(t, 0.1, t_0, t_mult, min_lr=0.001) for t in range(60)]
    assert_same_lrs(ours, expected)
print("cosine_restarts_lr: visible tests passed")

# %% [markdown]
# ### Warmup
#
# Goyal et al. (2017), *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*: start with a
# small rate and raise it linearly to the schedule's starting value over the first $w$ steps.
# `warmup(schedule, w, start_factor)` returns a new schedule (a function of `t`) that is
# $\text{schedule}(0)\cdot(f + (1 - f)\,t / w)$ for $t < w$ and $\text{schedule}(t - w)$
# afterwards, with $f$ = `start_factor`.  `warmup_steps` must be $\ge 0$ (0 means no warm-up) and
# `start_factor` in $[0, 1]$ (`ValueError` otherwise).

# %% role="answer"
def warmup(
    schedule: Callable[[int], float], warmup_steps: int, start_factor: float = 0.0
) -> Callable[[int], float]:
    """Linear warm-up from start_factor * schedule(0) to schedule(0), then the schedule."""
    ### BEGIN SOLUTION
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if not 0.0 <= start_factor <= 1.0:
        raise ValueError(f"start_factor must be in [0, 1], got {start_factor}")

    def warmed_up(t: int) -> float:
        _check_step(t)
        if t >= warmup_steps:
            return float(schedule(t - warmup_steps))
        factor = start_factor + (1.0 - start_factor) * t / warmup_steps
        return float(schedule(0) * factor)

    return warmed_up
    ### END SOLUTION


# %% role="test"
warmed = warmup(lambda t: cosine_lr(t, 0.1, 30), warmup_steps=5, start_factor=0.1)
assert callable(warmed), "warmup returns a schedule: a function of t"
expected = torch_lrs(lambda opt: schedulers.SequentialLR(
    opt,
    [schedulers.LinearLR(opt, start_factor=0.1, total_iters=5),
     schedulers.CosineAnnealingLR(opt, T_max=30)],
    milestones=[5]), 30)
ours = [warmed(t) for t in range(30)]
assert_same_lrs(ours, expected)
assert warmup(lambda t: 1.0, 4)(0) == 0.0, "start_factor = 0 starts from 0"
print("warmup: visible tests passed")

# %% [markdown]
# ### The linear scaling rule (Chapter 8)
#
# Goyal et al. (2017): when the minibatch is $k$ times larger, multiply the learning rate by $k$:
# $\eta = \eta_\text{base}\cdot B / B_\text{base}$.  Batch sizes must be positive (`ValueError`).

# %% role="answer"
def linear_scaling_rule(base_lr: float, batch_size: int, base_batch_size: int = 256) -> float:
    """base_lr * batch_size / base_batch_size (Goyal et al., 2017)."""
    ### BEGIN SOLUTION
    if batch_size <= 0 or base_batch_size <= 0:
        raise ValueError("batch sizes must be positive")
    return float(base_lr * batch_size / base_batch_size)
    ### END SOLUTION


# %% role="test"
assert math.isclose(linear_scaling_rule(0.1, 8192), 3.2), "Goyal et al.: 0.1 at 256 -> 3.2 at 8k"
assert math.isclose(linear_scaling_rule(0.1, 64, base_batch_size=128), 0.05), \
    "the rate scales with batch_size / base_batch_size"
try:
    linear_scaling_rule(0.1, 0)
except ValueError:
    pass
else:
    raise AssertionError("a batch size of 0 should raise ValueError")
print("linear_scaling_rule: visible tests passed")

# %% [markdown]
# ### See the schedules

# %% role="plot"
import matplotlib.pyplot as plt

steps = range(300)
try:
    curves = {
        "step (100, 0.3)": [step_lr(t, 1.0, 100, 0.3) for t in steps],
        "multistep [150, 250]": [multistep_lr(t, 1.0, [150, 250], 0.3) for t in steps],
        "cosine (300)": [cosine_lr(t, 1.0, 300) for t in steps],
        "linear (300)": [linear_lr(t, 1.0, 300) for t in steps],
        "inverse sqrt (30)": [inverse_sqrt_lr(t, 1.0, 30) for t in steps],
        "restarts (50, ×2)": [cosine_restarts_lr(t, 1.0, 50, 2) for t in steps],
    }
    cosine_with_warmup = warmup(lambda t: cosine_lr(t, 1.0, 270), 30)
    curves["warmup 30 + cosine"] = [cosine_with_warmup(t) for t in steps]
except NotImplementedError:
    print("Implement the schedules above to see this plot.")
else:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True)
    for index, (name, lrs) in enumerate(curves.items()):
        axes[index % 2].plot(steps, lrs, label=name)
    for ax in axes:
        ax.set(xlabel="step t", ylabel="learning rate / base_lr")
        ax.legend(fontsize=8)
    plt.show()

# %% [markdown]
# ## Part 2 — Optimisers (Chapter 6)
#
# Each rule receives the current weights `w`, their gradient `dw` and the state the previous call
# returned, and returns new weights and a new state.  Write the update exactly as the PyTorch
# optimiser does (the visible tests compare several steps with it, in float64).
#
# ### SGD with momentum (and Nesterov)
#
# Sutskever et al. (2013), *On the importance of initialization and momentum in deep learning*,
# in PyTorch's form: with $g = \nabla w + \lambda w$ (weight decay $\lambda$), the velocity is
# $b \leftarrow \mu b + g$ (and $b = g$ at the first step), and the step is $w - \eta b$, or
# $w - \eta (g + \mu b)$ for Nesterov momentum.  With `momentum = 0` this is plain SGD and the state
# stays empty.  Store $b$ as `state["momentum_buffer"]`.

# %% role="answer"
def sgd_momentum(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: dict | None,
    lr: float,
    momentum: float = 0.9,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> tuple[torch.Tensor, dict]:
    """One step of torch.optim.SGD: velocity b = momentum * b + g, w -= lr * b (or Nesterov)."""
    ### BEGIN SOLUTION
    if lr < 0.0 or momentum < 0.0 or weight_decay < 0.0:
        raise ValueError(f"invalid hyperparameters: lr={lr}, momentum={momentum},"
                         f" weight_decay={weight_decay}")
    if nesterov and momentum <= 0.0:
        raise ValueError("Nesterov momentum requires a momentum")
    state = dict(state or {})
    grad = dw + weight_decay * w if weight_decay != 0.0 else dw
    if momentum != 0.0:
        previous = state.get("momentum_buffer")
        buffer = grad.clone() if previous is None else momentum * previous + grad
        state["momentum_buffer"] = buffer
        grad = grad + momentum * buffer if nesterov else buffer
    return w - lr * grad, state
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close


def compare_with_torch(rule, optimizer_class, rule_hyper, torch_hyper, steps=6):
    """Run the rule and the PyTorch optimiser side by side on the same gradients (float64)."""
    generator = torch.Generator().manual_seed(0)
    w0 = torch.randn(3, 4, dtype=torch.float64, generator=generator)
    grads = torch.randn(steps, 3, 4, dtype=torch.float64, generator=generator)
    param = w0.clone().requires_grad_()
    optimizer = optimizer_class([param], **torch_hyper)
    w, state = w0.clone(), {}
    for step, grad in enumerate(grads):
        w_before, grad_before = w.clone(), grad.clone()
        result = rule(w, grad, state, **rule_hyper)
        assert isinstance(result, tuple) and len(result) == 2, \
            f"{rule.__name__} should return a pair (w_next, state), got {type(result).__name__}"
        w_next, state = result
        assert torch.equal(w, w_before) and torch.equal(grad, grad_before), "w and dw unchanged"
        param.grad = grad.clone()
        optimizer.step()
        assert_close(w_next, param.detach(), rtol=1e-10, atol=1e-12,
                     msg=lambda m, step=step: f"step {step + 1}: {m}")
        assert w_next.dtype == w.dtype, "w_next keeps w's dtype"
        w = w_next
    return state


for hyper in (dict(lr=0.1, momentum=0.0), dict(lr=0.1, momentum=0.9),
              dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)):
    compare_with_torch(sgd_momentum, torch.optim.SGD, hyper, hyper)
state = compare_with_torch(sgd_momentum, torch.optim.SGD, dict(lr=0.1), dict(lr=0.1, momentum=0.9))
assert "momentum_buffer" in state, "the state keeps torch's key 'momentum_buffer'"
try:
    sgd_momentum(torch.zeros(2), torch.zeros(2), {}, lr=0.1, momentum=0.0, nesterov=True)
except ValueError:
    pass
else:
    raise AssertionError("Nesterov without momentum should raise ValueError")
print("sgd_momentum: visible tests passed")

# %% [markdown]
# ### AdaGrad
#
# Duchi et al. (2011), *Adaptive Subgradient Methods for Online Learning and Stochastic
# Optimization*: accumulate squared gradients, $s \leftarrow s + g^2$ (`state["sum"]`, zeros at
# first), and step $w - \eta\,g / (\sqrt{s} + \epsilon)$.  Keep a step counter in `state["step"]`.

# %% role="answer"
def adagrad(
    w: torch.Tensor, dw: torch.Tensor, state: dict | None, lr: float = 1e-2, eps: float = 1e-10
) -> tuple[torch.Tensor, dict]:
    """One step of torch.optim.Adagrad: s += g^2, w -= lr * g / (sqrt(s) + eps)."""
    ### BEGIN SOLUTION
    if lr < 0.0 or eps < 0.0:
        raise ValueError(f"invalid hyperparameters: lr={lr}, eps={eps}")
    state = dict(state or {})
    total = state.get("sum", torch.zeros_like(w)) + dw * dw
    state["sum"] = total
    state["step"] = state.get("step", 0) + 1
    return w - lr * dw / (total.sqrt() + eps), state
    ### END SOLUTION


# %% role="test"
for hyper in (dict(lr=0.1), dict(lr=0.5, eps=1e-6)):
    state = compare_with_torch(adagrad, torch.optim.Adagrad, hyper, hyper)
assert "sum" in state, "the state keeps torch's key 'sum'"
print("adagrad: visible tests passed")

# %% [markdown]
# ### RMSProp
#
# Tieleman & Hinton (2012, lecture 6.5 of *Neural Networks for Machine Learning*): a leaky
# average of squared gradients, $v \leftarrow \alpha v + (1-\alpha) g^2$ (`state["square_avg"]`,
# zeros at first), and the step $w - \eta\,g / (\sqrt{v} + \epsilon)$.

# %% role="answer"
def rmsprop(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: dict | None,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
) -> tuple[torch.Tensor, dict]:
    """One step of torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2, w -= lr g / sqrt(v)."""
    ### BEGIN SOLUTION
    if lr < 0.0 or eps < 0.0 or alpha < 0.0:
        raise ValueError(f"invalid hyperparameters: lr={lr}, alpha={alpha}, eps={eps}")
    state = dict(state or {})
    square_avg = alpha * state.get("square_avg", torch.zeros_like(w)) + (1 - alpha) * dw * dw
    state["square_avg"] = square_avg
    state["step"] = state.get("step", 0) + 1
    return w - lr * dw / (square_avg.sqrt() + eps), state
    ### END SOLUTION


# %% role="test"
for hyper in (dict(lr=0.01), dict(lr=0.05, alpha=0.9, eps=1e-6)):
    state = compare_with_torch(rmsprop, torch.optim.RMSprop, hyper, hyper)
assert "square_avg" in state, "the state keeps torch's key 'square_avg'"
print("rmsprop: visible tests passed")

# %% [markdown]
# ### Adam and AdamW
#
# Kingma & Ba (2015), *Adam: A Method for Stochastic Optimization*.  At step $t = 1, 2, \dots$:
#
# $$m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2,
# \qquad \hat m = \frac{m}{1-\beta_1^t}, \quad \hat v = \frac{v}{1-\beta_2^t}, \qquad
# w \leftarrow w - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}.$$
#
# The bias corrections undo the zero initialisation of $m$ and $v$.  Weight decay $\lambda$ comes
# in two forms: Adam adds it to the gradient ($g = \nabla w + \lambda w$, an L2 penalty that the
# adaptive scaling then distorts), AdamW (`decoupled=True`; Loshchilov & Hutter, 2019, *Decoupled
# Weight Decay Regularization*) shrinks the weights directly, $w \leftarrow w\,(1 - \eta\lambda)$,
# before the Adam step.  State: `"step"`, `"exp_avg"` ($m$), `"exp_avg_sq"` ($v$).

# %% role="answer"
def adam(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: dict | None,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> tuple[torch.Tensor, dict]:
    """One step of torch.optim.Adam, or of AdamW when decoupled (Kingma & Ba, 2015)."""
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
        raise ValueError(f"invalid hyperparameters: lr={lr}, eps={eps},"
                         f" weight_decay={weight_decay}")
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"betas must be in [0, 1), got {betas}")
    state = dict(state or {})
    step = state.get("step", 0) + 1
    grad = dw
    if weight_decay != 0.0:
        if decoupled:
            w = w * (1 - lr * weight_decay)  # AdamW: shrink the weights, not the gradient
        else:
            grad = dw + weight_decay * w  # Adam: L2 penalty through the gradient
    exp_avg = beta1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - beta1) * grad
    exp_avg_sq = beta2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - beta2) * grad * grad
    state.update(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    return w - lr * m_hat / (v_hat.sqrt() + eps), state
    ### END SOLUTION


# %% role="test"
for hyper in (dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)):
    state = compare_with_torch(adam, torch.optim.Adam, hyper, hyper)
assert state["step"] == 6 and "exp_avg" in state and "exp_avg_sq" in state, \
    "the state keeps torch's keys 'step' (6 after six steps), 'exp_avg' and 'exp_avg_sq'"
adamw = dict(lr=0.02, weight_decay=0.1)
compare_with_torch(adam, torch.optim.AdamW, {**adamw, "decoupled": True}, adamw)
try:
    adam(torch.zeros(2), torch.zeros(2), {}, betas=(1.0, 0.999))
except ValueError:
    pass
else:
    raise AssertionError("beta1 = 1 should raise ValueError")
print("adam: visible tests passed")

# %% [markdown]
# ### See the optimisers race
#
# The loss $f(w) = \tfrac12(w_1^2 + 30\,w_2^2)$ is a narrow valley (condition number 30), like the
# lectures' "taco shell".  The next cell runs 50 steps of each of your rules from the same start.
# Look for plain SGD's zig-zag across the valley, momentum's overshoot, Nesterov's damping of it,
# and the adaptive methods' per-coordinate step sizes.

# %% role="plot"
import matplotlib.pyplot as plt

curvature = torch.tensor([1.0, 30.0], dtype=torch.float64)  # f's Hessian is diag(curvature)
runs = {
    "SGD (lr 0.06)": (sgd_momentum, dict(lr=0.06, momentum=0.0)),
    "momentum 0.9 (lr 0.01)": (sgd_momentum, dict(lr=0.01, momentum=0.9)),
    "Nesterov 0.9 (lr 0.01)": (sgd_momentum, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "AdaGrad (lr 1.5)": (adagrad, dict(lr=1.5)),
    "RMSProp (lr 0.2)": (rmsprop, dict(lr=0.2, alpha=0.9)),
    "Adam (lr 0.5)": (adam, dict(lr=0.5)),
}
try:
    paths = {}
    for name, (rule, hyper) in runs.items():
        w, state, path = torch.tensor([-8.0, 1.2], dtype=torch.float64), {}, []
        for _ in range(50):
            path.append(w)
            w, state = rule(w, curvature * w, state, **hyper)  # the gradient of f
        paths[name] = torch.stack(path + [w])
except NotImplementedError:
    print("Implement the optimisers above to see this plot.")
else:
    grid = torch.stack(torch.meshgrid(torch.linspace(-9, 2, 200, dtype=torch.float64),
                                      torch.linspace(-1.3, 1.3, 200, dtype=torch.float64),
                                      indexing="xy"))
    loss = 0.5 * (grid[0] ** 2 + 30 * grid[1] ** 2)
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.contour(grid[0], grid[1], loss, levels=20, cmap="Greys", linewidths=0.5)
    for name, path in paths.items():
        final = 0.5 * (path[-1] ** 2 * curvature).sum().item()
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=f"{name}: f = {final:.1e}")
    ax.plot(0, 0, "k*", ms=12)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", title="50 steps on a badly conditioned quadratic")
    ax.legend(fontsize=8, loc="upper right")
    plt.show()

# %% [markdown]
# ## Part 3 — Gradient clipping (Chapter 9)
#
# Pascanu et al. (2013), *On the difficulty of training recurrent neural networks*: when the
# gradient's norm is too large, rescale it.  For a list of gradient tensors, the total norm is the
# $p$-norm of the vector of all their entries: $\lVert(\lVert g_1\rVert_p, \lVert g_2\rVert_p,
# \dots)\rVert_p$ (for $p = \infty$, the largest absolute entry).  Multiply every gradient, in
# place, by $\min(1, \text{max\_norm} / (\text{total} + 10^{-6}))$, and return the total norm from
# before clipping as a 0-dimensional tensor.  `torch.linalg.vector_norm` is allowed.  An empty
# list has total norm 0.

# %% role="answer"
def clip_grad_norm(
    grads: list[torch.Tensor], max_norm: float, norm_type: float = 2.0
) -> torch.Tensor:
    """Scale the gradients in place so their total norm is at most max_norm; return that norm."""
    ### BEGIN SOLUTION
    if isinstance(grads, torch.Tensor):
        grads = [grads]
    grads = list(grads)
    norm_type = float(norm_type)
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    norms = [torch.linalg.vector_norm(g, norm_type).to(device) for g in grads]
    total = torch.linalg.vector_norm(torch.stack(norms), norm_type)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # 1e-6: as PyTorch, no 0 / 0
    with torch.no_grad():
        for g in grads:
            g.mul_(scale.to(g.device))
    return total
    ### END SOLUTION


# %% role="test"
generator = torch.Generator().manual_seed(0)
for norm_type in (2.0, 1.0, float("inf")):
    grads = [torch.randn(shape, dtype=torch.float64, generator=generator)
             for shape in ((3, 4), (5,), (2, 2, 2))]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    total = clip_grad_norm(grads, max_norm=1.5, norm_type=norm_type)
    assert_close(total, expected, rtol=1e-12, atol=0,
                 msg=lambda m, p=norm_type: f"the returned total norm (norm_type {p}): {m}")
    for p, g in zip(params, grads, strict=True):
        assert_close(g, p.grad, rtol=1e-12, atol=0, msg="the gradients must be scaled in place")
small = [torch.full((3,), 0.1)]
clip_grad_norm(small, max_norm=10.0)
assert_close(small[0], torch.full((3,), 0.1), msg="gradients below max_norm stay as they are")
print("clip_grad_norm: visible tests passed")

# %% [markdown] role="question" grade_id="q_adam_question"
# ## Question 1 (written, graded by hand)
#
# (a) At Adam's first step, what are $\hat m$ and $\hat v$, and how large is the update of each
# weight (ignore $\epsilon$)?  What would the first update be *without* bias correction, with the
# default $\beta_1 = 0.9$, $\beta_2 = 0.999$?  (b) Why is AdamW's decoupled weight decay not the
# same as adding $\lambda w$ to the gradient?

# %% [markdown] role="manual" grade_id="q_adam" points=5
# (a) After one step $m = (1-\beta_1) g$ and $v = (1-\beta_2) g^2$, so $\hat m = g$ and
# $\hat v = g^2$: the update is $\eta\, g/|g| = \eta\,\operatorname{sign}(g)$, a step of size
# exactly $\eta$ in every coordinate.  Without correction it is
# $\eta\,(1-\beta_1) g / \sqrt{(1-\beta_2) g^2} = \eta\cdot 0.1/\sqrt{0.001}\approx 3.16\,\eta$:
# the second moment, averaged more slowly, is biased towards 0 more strongly than the first, so
# the first steps are far too large.
#
# (b) With L2 in the gradient, the decay term $\lambda w$ is divided by $\sqrt{\hat v}$ like the
# rest of the gradient: weights with large past gradients are barely decayed, and the effective
# regularisation depends on the gradient history.  AdamW shrinks every weight by the same factor
# $1 - \eta\lambda$ independently of the adaptive scaling, which is what weight decay means for
# SGD, and it makes $\lambda$ and $\eta$ easier to tune separately.

# %% [markdown] role="question" grade_id="q_large_batch_question"
# ## Question 2 (written, graded by hand)
#
# You scale a recipe from batch 256 (learning rate 0.1) to batch 8192.  What learning rate does
# the linear scaling rule give, why does it also call for warm-up, and where does gradient clipping
# go in the training loop (relative to `loss.backward()`, `optimizer.step()` and
# `optimizer.zero_grad()`)?

# %% [markdown] role="manual" grade_id="q_large_batch" points=5
# The rule multiplies the rate by $8192/256 = 32$: $\eta = 3.2$.  The argument is that $k$ steps
# of SGD with batch $B$ and rate $\eta$ move the weights about as far as one step with batch $kB$
# and rate $k\eta$, *provided the gradient changes little over those $k$ steps*.  That assumption
# fails at the start of training, when the weights and gradients change fast: a rate of 3.2 from
# step 0 diverges.  Warm-up starts from a small rate and raises it linearly to 3.2 over the first
# few epochs (Goyal et al. use 5), until the network is in a region where the rule holds.
#
# Clipping acts on the gradients, so it goes after they are computed and before they are used:
# `optimizer.zero_grad()`, `loss.backward()`, then `clip_grad_norm(...)` on the parameters'
# gradients, then `optimizer.step()` (and the scheduler's step).
