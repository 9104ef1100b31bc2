"""Hidden suite, a3 part 2: optimiser update rules (chapter 06_optim).

Each rule is a pure function ``f(w, dw, state, **hyper) -> (w_next, state)``.  Oracle: one step
(and 20 steps, with the returned state passed back in) of the matching ``torch.optim`` optimiser
on a float64 parameter given the same gradients — SGD with momentum and Nesterov momentum
(Sutskever et al., 2013, "On the importance of initialization and momentum in deep learning"),
Adagrad (Duchi et al., 2011), RMSprop (Tieleman and Hinton, 2012), Adam (Kingma and Ba, 2015,
"Adam: A Method for Stochastic Optimization") and AdamW (Loshchilov and Hutter, 2019,
"Decoupled Weight Decay Regularization").  The state starts as ``{}`` (the notebook's convention)
and is otherwise opaque to the suite: whatever the rule returns is passed back in.
"""

from __future__ import annotations

import pytest
import torch
from torch.optim import adagrad as torch_adagrad
from torch.optim import adam as torch_adam
from torch.optim import rmsprop as torch_rmsprop
from torch.optim import sgd as torch_sgd

from autograder.grading.checks import (
    check_close,
    check_raises,
    check_tensor,
    check_unmodified,
    tensors_changed,
)

SHAPE = (3, 4)
TOLERANCE = {torch.float64: (1e-9, 1e-12), torch.float32: (1e-5, 1e-6)}


def _problem(steps: int, seed: int = 0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A starting point and a sequence of gradients (float64, CPU)."""
    generator = torch.Generator().manual_seed(seed)
    w0 = torch.randn(SHAPE, generator=generator, dtype=torch.float64)
    grads = [torch.randn(SHAPE, generator=generator, dtype=torch.float64) for _ in range(steps)]
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

    def step(self, w: torch.Tensor, grad: torch.Tensor) -> None:
        """Update the float64 tensor ``w`` in place, as ``optimizer.step()`` would."""
        h, state = self.hyper, self.state
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


def _torch_trajectory(rule: TorchRule, w0: torch.Tensor,
                      grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """The parameter after each step of a torch optimiser given these gradients."""
    w = w0.clone()
    trajectory = []
    for grad in grads:
        rule.step(w, grad.clone())
        trajectory.append(w.clone())
    return trajectory


def _unpack(result, name: str, w: torch.Tensor, step: int):
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise AssertionError(f"{name} should return a pair (w_next, state)")
    w_next, state = result
    check_tensor(w_next, f"w_next returned by {name} at step {step}", shape=w.shape,
                 dtype=w.dtype, device=w.device)
    return w_next, state


def _check_rule(student, name: str, rule: TorchRule, steps: int, device, dtype=torch.float64,
                seed=0, **hyper) -> None:
    """Run the student's rule for ``steps`` steps, threading the state, and compare each step."""
    w0, grads = _problem(steps, seed)
    expected = _torch_trajectory(rule, w0, grads)
    rtol, atol = TOLERANCE[dtype]
    settings = ", ".join(f"{k}={v!r}" for k, v in hyper.items()) or "default hyperparameters"
    w, state = w0.to(device=device, dtype=dtype), {}
    for step, (grad, want) in enumerate(zip(grads, expected, strict=True), start=1):
        result = getattr(student, name)(w, grad.to(device=device, dtype=dtype), state, **hyper)
        w, state = _unpack(result, name, w, step)
        where = "the first step" if step == 1 else f"step {step} (state passed back in)"
        check_close(w, want, f"{name} with {settings}: w after {where}", rtol=rtol, atol=atol)


def _check_pure(student, name: str, device, **hyper) -> None:
    """The rule leaves w, dw and the state's tensors alone, on the first step and a later one."""
    w0, grads = _problem(3, seed=9)
    w, state = w0.to(device), {}
    for grad in grads:
        info = student.call(name, w, grad.to(device), state, **hyper)
        check_unmodified(info, name, ["w", "dw"])
        if tensors_changed(state, info.args_after[2]):
            raise AssertionError(
                f"{name} modified the tensors of the state it received in place; "
                "return new tensors in the new state instead"
            )
        w, state = _unpack(info.value, name, w, 1)


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
@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_first_step_matches_torch_sgd(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.9), 1, device, lr=0.1,
                momentum=0.9)


@pytest.mark.points(3, part="sgd_momentum")
def test_sgd_momentum_20_steps_match_torch_sgd_with_the_state_threaded(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.05, momentum=0.9), 20, device, lr=0.05)
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1, momentum=0.5), 20, device, seed=1,
                lr=0.1, momentum=0.5)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_nesterov_20_steps_match_torch_sgd_nesterov(student, device):
    for momentum in (0.9, 0.6):
        _check_rule(student, "sgd_momentum", _sgd(lr=0.05, momentum=momentum, nesterov=True),
                    20, device, seed=2, lr=0.05, momentum=momentum, nesterov=True)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_weight_decay_matches_torch_sgd(student, device):
    for nesterov in (False, True):
        _check_rule(student, "sgd_momentum",
                    _sgd(lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.1), 20,
                    device, seed=3, lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.1)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_without_momentum_is_plain_gradient_descent(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.1), 5, device, seed=4, lr=0.1, momentum=0.0)


@pytest.mark.points(2, part="sgd_momentum")
def test_sgd_momentum_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "sgd_momentum", device, lr=0.1, momentum=0.9, nesterov=True,
                weight_decay=0.01)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_float32_keeps_dtype_and_device(student, device):
    _check_rule(student, "sgd_momentum", _sgd(lr=0.05, momentum=0.9), 5, device, torch.float32,
                lr=0.05, momentum=0.9)


@pytest.mark.points(1, part="sgd_momentum")
def test_sgd_momentum_raises_value_error_for_bad_hyperparameters(student, device):
    _check_value_errors(student, "sgd_momentum", device, [
        {"lr": -0.1}, {"lr": 0.1, "momentum": 0.0, "nesterov": True}])


# ----------------------------------------------------------------------------- adagrad
def _adagrad(**hyper) -> TorchRule:
    return TorchRule("adagrad", **hyper)


@pytest.mark.points(2, part="adagrad")
def test_adagrad_first_step_matches_torch_adagrad(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 1, device, lr=0.1)


@pytest.mark.points(2, part="adagrad")
def test_adagrad_20_steps_match_torch_adagrad_with_the_state_threaded(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 20, device, seed=1, lr=0.1)
    _check_rule(student, "adagrad", _adagrad(), 20, device, seed=2)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_adds_eps_to_the_root_of_the_sum(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1, eps=0.5), 10, device, seed=3, lr=0.1,
                eps=0.5)


@pytest.mark.points(2, part="adagrad")
def test_adagrad_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "adagrad", device, lr=0.1)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_float32_keeps_dtype_and_device(student, device):
    _check_rule(student, "adagrad", _adagrad(lr=0.1), 5, device, torch.float32, lr=0.1)


@pytest.mark.points(1, part="adagrad")
def test_adagrad_raises_value_error_for_a_negative_learning_rate(student, device):
    _check_value_errors(student, "adagrad", device, [{"lr": -0.1}])


# ----------------------------------------------------------------------------- rmsprop
def _rmsprop(**hyper) -> TorchRule:
    return TorchRule("rmsprop", **hyper)


@pytest.mark.points(2, part="rmsprop")
def test_rmsprop_first_step_matches_torch_rmsprop(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01), 1, device, lr=0.01)


@pytest.mark.points(3, part="rmsprop")
def test_rmsprop_20_steps_match_torch_rmsprop_with_the_state_threaded(student, device):
    _check_rule(student, "rmsprop", _rmsprop(), 20, device, seed=1)
    _check_rule(student, "rmsprop", _rmsprop(lr=0.05), 20, device, seed=2, lr=0.05)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_uses_alpha_and_eps(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.9), 20, device, seed=3, lr=0.01,
                alpha=0.9)
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01, alpha=0.5, eps=0.3), 10, device, seed=4,
                lr=0.01, alpha=0.5, eps=0.3)


@pytest.mark.points(2, part="rmsprop")
def test_rmsprop_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "rmsprop", device, lr=0.01)


@pytest.mark.points(1, part="rmsprop")
def test_rmsprop_float32_keeps_dtype_and_device(student, device):
    _check_rule(student, "rmsprop", _rmsprop(lr=0.01), 5, device, torch.float32, lr=0.01)


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


@pytest.mark.points(3, part="adam")
def test_adam_20_steps_match_torch_adam_with_the_state_threaded(student, device):
    _check_rule(student, "adam", _adam(), 20, device, seed=1)
    _check_rule(student, "adam", _adam(lr=0.05), 20, device, seed=2, lr=0.05)


@pytest.mark.points(2, part="adam")
def test_adam_uses_both_betas(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, betas=(0.8, 0.9)), 20, device, seed=3, lr=0.01,
                betas=(0.8, 0.9))


@pytest.mark.points(3, part="adam")
def test_adam_weight_decay_without_decoupling_is_l2_as_torch_adam(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, weight_decay=0.1), 20, device, seed=4, lr=0.01,
                weight_decay=0.1)
    _check_rule(student, "adam", _adam(lr=0.01, weight_decay=0.1), 20, device, seed=5, lr=0.01,
                weight_decay=0.1, decoupled=False)


@pytest.mark.points(3, part="adam")
def test_adam_decoupled_weight_decay_matches_torch_adamw(student, device):
    _check_rule(student, "adam", _adamw(lr=0.01, weight_decay=0.1), 20, device, seed=6, lr=0.01,
                weight_decay=0.1, decoupled=True)
    _check_rule(student, "adam", _adamw(lr=0.1, weight_decay=0.5, betas=(0.5, 0.9)), 20, device,
                seed=7, lr=0.1, weight_decay=0.5, betas=(0.5, 0.9), decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_adds_eps_to_the_root_of_the_corrected_second_moment(student, device):
    _check_rule(student, "adam", _adam(lr=0.01, eps=0.3), 10, device, seed=8, lr=0.01, eps=0.3)


@pytest.mark.points(2, part="adam")
def test_adam_does_not_modify_w_dw_or_the_state_tensors(student, device):
    _check_pure(student, "adam", device, lr=0.01, weight_decay=0.1)
    _check_pure(student, "adam", device, lr=0.01, weight_decay=0.1, decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_float32_keeps_dtype_and_device(student, device):
    _check_rule(student, "adam", _adam(lr=0.01), 5, device, torch.float32, lr=0.01)
    _check_rule(student, "adam", _adamw(lr=0.01, weight_decay=0.1), 5, device, torch.float32,
                lr=0.01, weight_decay=0.1, decoupled=True)


@pytest.mark.points(1, part="adam")
def test_adam_raises_value_error_for_bad_hyperparameters(student, device):
    _check_value_errors(student, "adam", device, [
        {"lr": -0.01}, {"betas": (1.0, 0.999)}, {"betas": (0.9, 1.5)}, {"betas": (-0.1, 0.999)}])
