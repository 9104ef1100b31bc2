"""Hidden suite, a3 part 2: optimiser update rules (chapter 06_optim).

Each rule is a pure function ``f(w, dw, state, **hyper) -> (w_next, state)``.  Oracle: one step
(and 20 steps, with the returned state passed back in) of the matching ``torch.optim`` optimiser
on a float64 parameter given the same gradients — SGD with momentum and Nesterov momentum
(Sutskever et al., 2013, "On the importance of initialization and momentum in deep learning"),
Adagrad (Duchi et al., 2011), RMSprop (Tieleman and Hinton, 2012), Adam (Kingma and Ba, 2015,
"Adam: A Method for Stochastic Optimization") and AdamW (Loshchilov and Hutter, 2019,
"Decoupled Weight Decay Regularization").  The state starts as ``{}`` (the notebook's convention)
and is passed back in as the rule returned it.  Where the notebook defines the state's contents
(PyTorch's keys: ``momentum_buffer``, ``sum``, ``square_avg``, ``exp_avg``, ``exp_avg_sq``,
``step``; no momentum buffer at momentum 0) they are compared with torch's state.  A schedule
changes the learning rate between steps, so the rules are also run with a different lr at every
step: a rule that keeps an lr-scaled velocity matches torch only at a constant lr.
"""

from __future__ import annotations

import pytest
import torch
from torch.optim import adagrad as torch_adagrad
from torch.optim import adam as torch_adam
from torch.optim import rmsprop as torch_rmsprop
from torch.optim import sgd as torch_sgd

from autograder.grading.checks import (
    as_number,
    calling,
    check_close,
    check_raises,
    check_tensor,
    check_unmodified,
)
from autograder.grading.suites.a3_optim_schedules._support import (
    call_text,
    check_state_untouched,
)

SHAPE = (3, 4)
TOLERANCE = {torch.float64: (1e-9, 1e-12), torch.float32: (1e-5, 1e-6)}
# A learning rate that changes at every step, as a schedule with warmup and decay would; it starts
# at 0, as warmup with its default start_factor 0 does (lr = 0 is valid, as in torch).
CHANGING_LRS = [0.0, 0.05, 0.1, 0.08, 0.03, 0.06, 0.01, 0.09, 0.04, 0.07, 0.05, 0.02]


def _problem(steps: int, seed: int = 0, shape=SHAPE,
             grad_scale: float = 1.0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A starting point and a sequence of gradients (float64, CPU), N(0, grad_scale^2)."""
    generator = torch.Generator().manual_seed(seed)
    w0 = torch.randn(shape, generator=generator, dtype=torch.float64)
    grads = [grad_scale * torch.randn(shape, generator=generator, dtype=torch.float64)
             for _ in range(steps)]
    return w0, grads


class TorchRule:
    """torch.optim's functional update of one optimiser, with its state kept between steps.

    ``torch.optim.<name>.<name>`` is the function each ``torch.optim`` class calls in ``step()``;
    calling it directly gives the same numbers without constructing an ``Optimizer``, whose
    first construction imports ``torch._dynamo`` (seconds of CPU per grading process).
    tests/test_suites_spec.py checks that these oracles agree with the optimiser classes.
    """

    def __init__(self, name: str, **hyper) -> None:
        self.name, self.hyper = name, hyper
        self.state: dict[str, list] = {}

    def step(self, w: torch.Tensor, grad: torch.Tensor, lr: float | None = None) -> None:
        """Update the float64 tensor ``w`` in place, as ``optimizer.step()`` would.

        ``lr`` replaces the learning rate for this step (a scheduler writing the param group).
        """
        h, state = dict(self.hyper), self.state
        if lr is not None:
            h["lr"] = lr
        if not state:
            state.update(step=[torch.tensor(0.0)], buffer=[None], sum=[torch.zeros_like(w)],
                         avg=[torch.zeros_like(w)], sq=[torch.zeros_like(w)])
        if self.name == "sgd":
            torch_sgd.sgd([w], [grad], state["buffer"], weight_decay=h.get("weight_decay", 0.0),
                          momentum=h.get("momentum", 0.0), lr=h["lr"], dampening=0.0,
                          nesterov=h.get("nesterov", False), maximize=False)
        elif self.name == "adagrad":
            torch_adagrad.adagrad([w], [grad], state["sum"], state["step"],
                                  lr=h.get("lr", 1e-2), weight_decay=0.0, lr_decay=0.0,
                                  eps=h.get("eps", 1e-10), maximize=False)
        elif self.name == "rmsprop":
            torch_rmsprop.rmsprop([w], [grad], state["sq"], [torch.zeros_like(w)],
                                  [torch.zeros_like(w)], state["step"], lr=h.get("lr", 1e-2),
                                  alpha=h.get("alpha", 0.99), eps=h.get("eps", 1e-8),
                                  weight_decay=0.0, momentum=0.0, centered=False)
        elif self.name in ("adam", "adamw"):
            beta1, beta2 = h.get("betas", (0.9, 0.999))
            torch_adam.adam([w], [grad], state["avg"], state["sq"], [], state["step"],
                            decoupled_weight_decay=self.name == "adamw", amsgrad=False,
                            beta1=beta1, beta2=beta2, lr=h.get("lr", 1e-3),
                            weight_decay=h.get("weight_decay", 0.0), eps=h.get("eps", 1e-8),
                            maximize=False)
        else:
            raise ValueError(self.name)

    def contract_state(self) -> dict:
        """torch's state under the notebook's keys (the tensors and the step count)."""
        state = self.state
        step = float(state["step"][0])
        if self.name == "sgd":
            buffer = state["buffer"][0]
            return {} if buffer is None else {"momentum_buffer": buffer}
        if self.name == "adagrad":
            return {"sum": state["sum"][0], "step": step}
        if self.name == "rmsprop":
            return {"square_avg": state["sq"][0], "step": step}
        return {"exp_avg": state["avg"][0], "exp_avg_sq": state["sq"][0], "step": step}


def _torch_trajectory(rule: TorchRule, w0: torch.Tensor, grads: list[torch.Tensor],
                      lrs: list[float] | None = None) -> list[torch.Tensor]:
    """The parameter after each step of a torch optimiser given these gradients (and lrs)."""
    w = w0.clone()
    trajectory = []
    for step, grad in enumerate(grads):
        rule.step(w, grad.clone(), None if lrs is None else lrs[step])
        trajectory.append(w.clone())
    return trajectory


def _unpack(result, call: str, w: torch.Tensor):
    """(w_next, state): a pair whose first item is a tensor of w's shape (dtype: own test)."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise AssertionError(f"{call} should return a pair (w_next, state), "
                             f"got {type(result).__name__}")
    w_next, state = result
    check_tensor(w_next, f"w_next returned by {call}", shape=w.shape)
    return w_next, state  # passed back as it is; its contents have their own test


def _run(student, name: str, steps: int, device, dtype=torch.float64, seed=0,
         lrs: list[float] | None = None, shape=SHAPE, grad_scale: float = 1.0, **hyper):
    """Run the student's rule, threading the state; yield (step, call text, w_next, state).

    Gradients of a ``grad_scale`` other than 1 are named in the call text."""
    w0, grads = _problem(steps, seed, shape, grad_scale)
    w, state = w0.to(device=device, dtype=dtype), {}
    for step, grad in enumerate(grads, start=1):
        if lrs is not None:
            hyper["lr"] = lrs[step - 1]
        dw = grad.to(device=device, dtype=dtype)
        call = call_text(name, w, dw, state, **hyper)
        if grad_scale != 1.0:
            call += f" with gradients of size {grad_scale:g}"
        call = f"on the first step ({call})" if step == 1 else \
            f"at step {step} ({call}, the state it returned passed back)"
        result = calling(f"{name} {call}", getattr(student, name), w, dw, state, **hyper)
        w, state = _unpack(result, f"{name} {call}", w)
        yield step, call, w, state


def _check_rule(student, name: str, rule: TorchRule, steps: int, device, dtype=torch.float64,
                seed=0, lrs: list[float] | None = None, grad_scale: float = 1.0,
                **hyper) -> None:
    """Run the student's rule for ``steps`` steps, threading the state, and compare each step."""
    w0, grads = _problem(steps, seed, grad_scale=grad_scale)
    expected = _torch_trajectory(rule, w0, grads, lrs)
    rtol, atol = TOLERANCE[dtype]
    for step, call, w, _ in _run(student, name, steps, device, dtype, seed, lrs,
                                 grad_scale=grad_scale, **hyper):
        check_close(w, expected[step - 1], f"w_next returned by {name} {call}", rtol=rtol,
                    atol=atol)


def _check_state(student, name: str, rule: TorchRule, steps: int, device, **hyper) -> None:
    """After each step the state holds torch's buffers under the notebook's keys."""
    w0, grads = _problem(steps, seed=11)
    w = w0.clone()
    for step, call, _, state in _run(student, name, steps, device, seed=11, **hyper):
        rule.step(w, grads[step - 1].clone())
        want = rule.contract_state()
        if not isinstance(state, dict):
            raise AssertionError(f"the state returned by {name} {call} should be a dict with "
                                 f"torch's keys, got {type(state).__name__}")
        if not want and isinstance(state.get("momentum_buffer"), torch.Tensor):
            raise AssertionError(f"{name} {call} stored a momentum buffer; with momentum=0 the "
                                 "state stays empty (plain SGD)")
        for key, value in want.items():
            if key not in state:
                raise AssertionError(f"the state returned by {name} {call} has no key {key!r}"
                                     f" (keys: {sorted(map(str, state))})")
            what = f"state[{key!r}] returned by {name} {call}"
            if key == "step":
                got = as_number(state[key], what)
                if got != value:
                    raise AssertionError(f"{what} is {got:g}, expected {value:g}")
            else:
                check_close(state[key], value, what, rtol=1e-9, atol=1e-12)


def _check_dtypes(student, name: str, device, **hyper) -> None:
    """w_next keeps w's dtype and device: float32, half precision, 1-D and empty w."""
    cases = [(torch.float32, SHAPE), (torch.float16, SHAPE), (torch.bfloat16, SHAPE),
             (torch.float64, (7,)), (torch.float64, (0, 3))]
    for dtype, shape in cases:
        for _, call, w, _ in _run(student, name, 2, device, dtype, seed=12, shape=shape,
                                  **hyper):
            check_tensor(w, f"w_next returned by {name} {call}", shape=shape, dtype=dtype,
                         device=torch.device(device))
            finite = bool(torch.isfinite(w.detach().cpu().double()).all())
            if dtype not in (torch.float16, torch.bfloat16) and not finite:
                raise AssertionError(f"w_next returned by {name} {call} contains inf or nan")


def _check_pure(student, name: str, device, **hyper) -> None:
    """The rule leaves w, dw and the state's tensors alone, on the first step and later ones."""
    w0, grads = _problem(3, seed=9)
    w, state = w0.to(device), {}
    for step, grad in enumerate(grads, start=1):
        info = student.call(name, w, grad.to(device), state, **hyper)
        call = f"{call_text(name, w, grad, state, **hyper)} at step {step}"
        check_unmodified(info, call, ["w", "dw"])
        check_state_untouched(info, state, call)
        w, state = _unpack(info.value, call, w)


def _check_value_errors(student, name: str, device, cases: list[dict]) -> None:
    """Invalid hyperparameters raise ValueError, as torch.optim's constructors do."""
    w0, grads = _problem(1, seed=10)
    w, grad = w0.to(device), grads[0].to(device)
    for hyper in cases:
        settings = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
        check_raises(lambda h=hyper: getattr(student, name)(w, grad, {}, **h), "ValueError",
                     f"{name}(w, dw, {{}}, {settings})")


def _sgd(**hyper) -> TorchRule:
    return TorchRule("sgd", **hyper)


# ----------------------------------------------------------------------------- sgd_momentum
@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_first_step_matches_torch_sgd(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.9), 1, device, lr=0.1,
                momentum=0.9)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_20_steps_match_torch_sgd_with_the_state_threaded(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.05, momentum=0.9), 20, device, lr=0.05)
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.5), 20, device, seed=1,
                lr=0.1, momentum=0.5)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_matches_torch_when_the_learning_rate_changes_every_step(student, device):
    for nesterov in (False, True):
        _check_rule(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.9, nesterov=nesterov),
                    len(CHANGING_LRS), device, seed=13, lrs=CHANGING_LRS, momentum=0.9,
                    nesterov=nesterov)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_state_holds_torchs_momentum_buffer_and_none_at_momentum_0(
        student, device):
    _check_state(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.9), 4, device, lr=0.1)
    _check_state(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.9, nesterov=True), 4, device,
                 lr=0.1, nesterov=True)
    _check_state(student, "sgd_momentum", _sgd(lr=0.1), 3, device, lr=0.1, momentum=0.0)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_nesterov_20_steps_match_torch_sgd_nesterov(student, device):
    for momentum in (0.9, 0.6):
        _check_rule(student, "sgd_momentum", _sgd(lr=0.05, momentum=momentum, nesterov=True),
                    20, device, seed=2, lr=0.05, momentum=momentum, nesterov=True)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_weight_decay_matches_torch_sgd(student, device):
    for nesterov, weight_decay, steps in [(False, 0.1, 20), (True, 0.1, 20), (False, 1.0, 5)]:
        _check_rule(student, "sgd_momentum",
                    _sgd(lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=weight_decay),
                    steps, device, seed=3, lr=0.05, momentum=0.9, nesterov=nesterov,
                    weight_decay=weight_decay)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_without_momentum_is_plain_gradient_descent(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1), 5, device, seed=4, lr=0.1, momentum=0.0)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "sgd_momentum", device, lr=0.1)  # the defaults first
    _check_pure(student, "sgd_momentum", device, lr=0.1, momentum=0.0)
    _check_pure(student, "sgd_momentum", device, lr=0.1, momentum=0.9, nesterov=True,
                weight_decay=0.01)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_keeps_dtype_and_device_half_precision_1d_and_empty_w(student, device):
    _check_dtypes(student, "sgd_momentum", device, lr=0.05)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_raises_value_error_for_bad_hyperparameters(student, device):
    _check_value_errors(student, "sgd_momentum", device, [
        {"lr": -0.1}, {"lr": 0.1, "momentum": 0.0, "nesterov": True}])


# ----------------------------------------------------------------------------- adagrad
def _adagrad(**hyper) -> TorchRule:
    return TorchRule("adagrad", **hyper)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_first_step_matches_torch_adagrad(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 1, device, lr=0.1)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_20_steps_match_torch_adagrad_with_the_state_threaded(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 20, device, seed=1, lr=0.1)
    _check_rule(student, "adagrad", _adagrad(), 20, device, seed=2)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_matches_torch_when_the_learning_rate_changes_every_step(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), len(CHANGING_LRS), device, seed=14,
                lrs=CHANGING_LRS)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_state_holds_torchs_sum_and_step(student, device):
    _check_state(student, "adagrad", _adagrad(lr=0.1), 4, device, lr=0.1)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_adds_eps_to_the_root_of_the_sum(student, device):
    """Also the default eps = 1e-10, on gradients of size 1e-10, where it matters."""
    _check_rule(student, "adagrad", _adagrad(lr=0.1, eps=0.5), 10, device, seed=3, lr=0.1,
                eps=0.5)
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 5, device, seed=21, grad_scale=1e-10,
                lr=0.1)
    _check_rule(student, "adagrad", _adagrad(lr=0.1, eps=0.0), 5, device, seed=18, lr=0.1,
                eps=0.0)  # eps = 0 is valid, as in torch


@pytest.mark.points(2, part="adagrad")
def test_adagrad_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "adagrad", device)
    _check_pure(student, "adagrad", device, lr=0.1, eps=1e-3)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_keeps_dtype_and_device_half_precision_1d_and_empty_w(student, device):
    _check_dtypes(student, "adagrad", device, lr=0.1)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_raises_value_error_for_a_negative_learning_rate(student, device):
    _check_value_errors(student, "adagrad", device, [{"lr": -0.1}])


# ----------------------------------------------------------------------------- rmsprop
def _rmsprop(**hyper) -> TorchRule:
    return TorchRule("rmsprop", **hyper)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_first_step_matches_torch_rmsprop(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01), 1, device, lr=0.01)


@pytest.mark.points(2, part="rmsprop")
def test_rmsprop_20_steps_match_torch_rmsprop_with_the_state_threaded(student, device):
    _check_rule(student, "rmsprop", _rmsprop(), 20, device, seed=1)
    _check_rule(student, "rmsprop", _rmsprop(lr=0.05), 20, device, seed=2, lr=0.05)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_matches_torch_when_the_learning_rate_changes_every_step(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.9), len(CHANGING_LRS), device,
                seed=15, lrs=CHANGING_LRS, alpha=0.9)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_state_holds_torchs_square_avg_and_step(student, device):
    _check_state(student, "rmsprop", _rmsprop(lr=0.01), 4, device, lr=0.01)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_uses_alpha_and_eps(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.9), 20, device, seed=3, lr=0.01,
                alpha=0.9)
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.5, eps=0.3), 10, device, seed=4,
                lr=0.01, alpha=0.5, eps=0.3)
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.0, eps=0.3), 5, device, seed=19,
                lr=0.01, alpha=0.0, eps=0.3)  # alpha = 0 is valid, as in torch
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, eps=0.0), 5, device, seed=22, lr=0.01,
                eps=0.0)  # so is eps = 0


@pytest.mark.points(2, part="rmsprop")
def test_rmsprop_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "rmsprop", device)
    _check_pure(student, "rmsprop", device, lr=0.01, alpha=0.9)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_keeps_dtype_and_device_half_precision_1d_and_empty_w(student, device):
    _check_dtypes(student, "rmsprop", device, lr=0.01)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_raises_value_error_for_a_negative_learning_rate(student, device):
    _check_value_errors(student, "rmsprop", device, [{"lr": -0.01}])


# ----------------------------------------------------------------------------- adam
def _adam(**hyper) -> TorchRule:
    return TorchRule("adam", **hyper)


def _adamw(**hyper) -> TorchRule:
    return TorchRule("adamw", **hyper)


@pytest.mark.points(2, part="adam")
def test_adam_first_step_matches_torch_adam_with_bias_correction(student, device):
    _check_rule(student, "adam", _adam(lr=0.01), 1, device, lr=0.01)


@pytest.mark.points(2, part="adam")
def test_adam_20_steps_match_torch_adam_with_the_state_threaded(student, device):
    _check_rule(student, "adam", _adam(), 20, device, seed=1)
    _check_rule(student, "adam", _adam(lr=0.05), 20, device, seed=2, lr=0.05)


@pytest.mark.points(2, part="adam")
def test_adam_matches_torch_when_the_learning_rate_changes_every_step(student, device):
    _check_rule(student, "adam", _adam(lr=0.01), len(CHANGING_LRS), device, seed=16,
                lrs=CHANGING_LRS)
    _check_rule(student, "adam", _adamw(lr=0.01, weight_decay=0.5), len(CHANGING_LRS), device,
                seed=17, lrs=CHANGING_LRS, weight_decay=0.5, decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_state_holds_torchs_exp_avg_exp_avg_sq_and_step(student, device):
    _check_state(student, "adam", _adam(lr=0.01), 4, device, lr=0.01)


@pytest.mark.points(1, part="adam")
def test_adam_uses_both_betas(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, betas=(0.8, 0.9)), 20, device, seed=3, lr=0.01,
                betas=(0.8, 0.9))
    _check_rule(student, "adam", _adam(lr=0.01, betas=(0.0, 0.0)), 5, device, seed=20, lr=0.01,
                betas=(0.0, 0.0))  # betas of 0 are valid, as in torch


@pytest.mark.points(2, part="adam")
def test_adam_weight_decay_without_decoupling_is_l2_as_torch_adam(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, weight_decay=0.1), 20, device, seed=4, lr=0.01,
                weight_decay=0.1)
    _check_rule(student, "adam", _adam(lr=0.01, weight_decay=1.0), 20, device, seed=5, lr=0.01,
                weight_decay=1.0, decoupled=False)


@pytest.mark.points(3, part="adam")
def test_adam_decoupled_weight_decay_matches_torch_adamw(student, device):
    _check_rule(student, "adam", _adamw(lr=0.01, weight_decay=0.1), 20, device, seed=6, lr=0.01,
                weight_decay=0.1, decoupled=True)
    _check_rule(student, "adam", _adamw(lr=0.1, weight_decay=0.5, betas=(0.5, 0.9)), 20, device,
                seed=7, lr=0.1, weight_decay=0.5, betas=(0.5, 0.9), decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_adds_eps_to_the_root_of_the_corrected_second_moment(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, eps=0.3), 10, device, seed=8, lr=0.01, eps=0.3)
    _check_rule(student, "adam", _adam(lr=0.01, eps=0.0), 5, device, seed=21, lr=0.01,
                eps=0.0)  # eps = 0 is valid, as in torch


@pytest.mark.points(2, part="adam")
def test_adam_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "adam", device)  # the defaults first
    _check_pure(student, "adam", device, lr=0.01, weight_decay=0.1)
    _check_pure(student, "adam", device, lr=0.01, weight_decay=0.1, decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_keeps_dtype_and_device_half_precision_1d_and_empty_w(student, device):
    _check_dtypes(student, "adam", device, lr=0.01)
    _check_dtypes(student, "adam", device, lr=0.01, weight_decay=0.1, decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_raises_value_error_for_bad_hyperparameters(student, device):
    _check_value_errors(student, "adam", device, [
        {"lr": -0.01}, {"betas": (1.0, 0.999)}, {"betas": (0.9, 1.0)}, {"betas": (0.9, 1.5)},
        {"betas": (-0.1, 0.999)}])
