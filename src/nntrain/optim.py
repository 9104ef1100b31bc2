"""Optimisers: update rules, ``torch.optim`` classes built on them, and 2-D test problems.

Each update rule is a pure function ``rule(w, dw, state, **hyper) -> (w_next,
state_next)``: it never modifies ``w``, ``dw`` or ``state`` and returns a new
state dictionary (start from ``{}``, or ``None``).  One call equals one
``step()`` of the matching ``torch.optim`` optimiser, with the same state
names (``momentum_buffer``, ``sum``, ``square_avg``, ``exp_avg``,
``exp_avg_sq``, ``step``), so changing the learning rate between calls works
as it does in torch.  The :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`,
:class:`Adam` and :class:`AdamW` classes apply the rules to every parameter
and plug into any training loop.

For the book's pictures: :func:`newton_step`, 2-D test functions
(:func:`ill_conditioned_quadratic`, :data:`rosenbrock`, :data:`saddle`) and
:func:`run_trajectory`.

Public names: sgd_momentum, adagrad, rmsprop, adam, SGD, Adagrad, RMSprop,
Adam, AdamW, OPTIMIZERS, make_optimizer, newton_step, TestFunction,
ill_conditioned_quadratic, rosenbrock, saddle, RULES, run_trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = [
    "sgd_momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "OPTIMIZERS",
    "make_optimizer",
    "newton_step",
    "TestFunction",
    "ill_conditioned_quadratic",
    "rosenbrock",
    "saddle",
    "RULES",
    "run_trajectory",
]

State = dict[str, Any]


# --------------------------------------------------------------------------- update rules


def sgd_momentum(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: State | None,
    lr: float,
    momentum: float = 0.9,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> tuple[torch.Tensor, State]:
    r"""One step of SGD with (Nesterov) momentum, PyTorch's form.

    With :math:`g = \nabla L(w) + \lambda w` (L2 weight decay):

    .. math:: v_{t+1} = \mu v_t + (1 - d)\,g, \qquad
              w_{t+1} = w_t - \alpha\,v_{t+1}

    (:math:`v_1 = g` on the first step), or with ``nesterov=True``
    :math:`w_{t+1} = w_t - \alpha (g + \mu v_{t+1})`, the look-ahead form of
    Sutskever et al., 2013, "On the importance of initialization and momentum
    in deep learning" (Nesterov, 1983).  Polyak, 1964, "Some methods of
    speeding up the convergence of iteration methods" introduced momentum.
    ``momentum=0`` is plain SGD.
    """
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum needs momentum > 0 and no dampening")
    state = {} if state is None else state
    g = dw + weight_decay * w if weight_decay != 0 else dw
    buf = state.get("momentum_buffer")
    buf = g.clone() if buf is None else momentum * buf + (1 - dampening) * g
    direction = g + momentum * buf if nesterov else buf
    return w - lr * direction, {"momentum_buffer": buf}


def adagrad(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: State | None,
    lr: float = 1e-2,
    eps: float = 1e-10,
    weight_decay: float = 0.0,
    lr_decay: float = 0.0,
) -> tuple[torch.Tensor, State]:
    r"""One step of AdaGrad: divide by the root of the sum of all squared gradients.

    .. math:: s_t = s_{t-1} + g_t^2, \qquad
              w_{t+1} = w_t - \frac{\alpha_t\, g_t}{\sqrt{s_t} + \epsilon}

    with :math:`\alpha_t = \alpha / (1 + (t-1)\,\text{lr\_decay})`.  Each
    coordinate gets its own step size, small where gradients have been large;
    because :math:`s_t` only grows, the steps shrink towards zero.  Duchi,
    Hazan & Singer, 2011, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization".
    """
    state = {} if state is None else state
    step = state.get("step", 0) + 1
    g = dw + weight_decay * w if weight_decay != 0 else dw
    total = state.get("sum", torch.zeros_like(w)) + g * g
    clr = lr / (1 + (step - 1) * lr_decay)
    return w - clr * g / (total.sqrt() + eps), {"step": step, "sum": total}


def rmsprop(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: State | None,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> tuple[torch.Tensor, State]:
    r"""One step of RMSProp ("leaky AdaGrad"): a moving average of squared gradients.

    .. math:: s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t^2, \qquad
              w_{t+1} = w_t - \frac{\alpha\, g_t}{\sqrt{s_t} + \epsilon}

    (:math:`\rho` = ``alpha``).  Old gradients are forgotten, so the step does
    not decay to zero as in AdaGrad.  ``centered`` divides by an estimate of
    the variance instead (:math:`s_t - \bar g_t^2`); ``momentum`` adds a
    velocity on the scaled step.  Tieleman & Hinton, 2012, "Lecture 6.5 --
    RMSProp", COURSERA: Neural Networks for Machine Learning.
    """
    state = {} if state is None else state
    g = dw + weight_decay * w if weight_decay != 0 else dw
    square_avg = alpha * state.get("square_avg", torch.zeros_like(w)) + (1 - alpha) * g * g
    new_state: State = {"step": state.get("step", 0) + 1, "square_avg": square_avg}
    if centered:
        grad_avg = alpha * state.get("grad_avg", torch.zeros_like(w)) + (1 - alpha) * g
        new_state["grad_avg"] = grad_avg
        denom = (square_avg - grad_avg * grad_avg).sqrt() + eps
    else:
        denom = square_avg.sqrt() + eps
    if momentum > 0:
        buf = momentum * state.get("momentum_buffer", torch.zeros_like(w)) + g / denom
        new_state["momentum_buffer"] = buf
        return w - lr * buf, new_state
    return w - lr * g / denom, new_state


def adam(
    w: torch.Tensor,
    dw: torch.Tensor,
    state: State | None,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    bias_correction: bool = True,
) -> tuple[torch.Tensor, State]:
    r"""One step of Adam (``decoupled=True``: AdamW).

    Momentum on the gradient and RMSProp's scaling, both as moving averages
    that start at zero, corrected for that start:

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
              v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
              \hat m_t = \frac{m_t}{1-\beta_1^t}, \quad \hat v_t = \frac{v_t}{1-\beta_2^t}

    .. math:: w_{t+1} = w_t - \alpha\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization".  Weight
    decay :math:`\lambda` is added to the gradient (L2, :math:`g_t = \nabla L +
    \lambda w`) unless ``decoupled``, which instead shrinks the weights
    directly, :math:`w \leftarrow w(1 - \alpha\lambda)`, before the Adam step --
    Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization".
    ``amsgrad`` uses the running maximum of :math:`\hat v` (Reddi et al., 2018);
    ``bias_correction=False`` drops the two corrections (for the book's
    comparison of the first steps).
    """
    state = {} if state is None else state
    beta1, beta2 = betas
    step = state.get("step", 0) + 1
    g = dw
    if weight_decay != 0:
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = dw + weight_decay * w
    exp_avg = beta1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - beta1) * g
    exp_avg_sq = beta2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - beta2) * g * g
    new_state: State = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    second = exp_avg_sq
    if amsgrad:
        second = torch.maximum(state.get("max_exp_avg_sq", torch.zeros_like(w)), exp_avg_sq)
        new_state["max_exp_avg_sq"] = second
    bc1 = 1 - beta1**step if bias_correction else 1.0
    bc2 = 1 - beta2**step if bias_correction else 1.0
    denom = second.sqrt() / math.sqrt(bc2) + eps
    return w - (lr / bc1) * exp_avg / denom, new_state


# --------------------------------------------------------------------------- torch.optim classes


class _RuleOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` that applies a pure update rule to each parameter.

    The rule gets every hyperparameter of the parameter's group (except
    ``params``), so per-group learning rates and a scheduler changing
    ``group["lr"]`` work as in torch.
    """

    rule: Callable[..., tuple[torch.Tensor, State]]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                if p.grad is None:
                    continue
                w_next, new_state = type(self).rule(p, p.grad, dict(self.state[p]), **hyper)
                p.copy_(w_next)
                self.state[p] = new_state
        return loss


class SGD(_RuleOptimizer):
    """SGD with momentum, Nesterov momentum and L2 weight decay (:func:`sgd_momentum`).

    Same arguments and results as ``torch.optim.SGD``.
    """

    rule = staticmethod(sgd_momentum)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be >= 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)


class Adagrad(_RuleOptimizer):
    """AdaGrad (:func:`adagrad`); same arguments and results as ``torch.optim.Adagrad``."""

    rule = staticmethod(adagrad)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        if lr < 0 or eps < 0:
            raise ValueError("lr and eps must be >= 0")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      eps=eps))


class RMSprop(_RuleOptimizer):
    """RMSProp (:func:`rmsprop`); same arguments and results as ``torch.optim.RMSprop``."""

    rule = staticmethod(rmsprop)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        if lr < 0 or eps < 0 or not 0 <= alpha <= 1:
            raise ValueError("need lr >= 0, eps >= 0, 0 <= alpha <= 1")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))


class Adam(_RuleOptimizer):
    """Adam with L2 weight decay (:func:`adam`); as ``torch.optim.Adam``.

    ``bias_correction=False`` turns the corrections off (not in torch).
    """

    rule = staticmethod(adam)
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        bias_correction: bool = True,
    ) -> None:
        if lr < 0 or eps < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError("need lr >= 0, eps >= 0 and betas in [0, 1)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      bias_correction=bias_correction,
                                      decoupled=self._decoupled))


class AdamW(Adam):
    """Adam with decoupled weight decay (:func:`adam` with ``decoupled=True``).

    As ``torch.optim.AdamW``, including its default ``weight_decay=1e-2``.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        bias_correction: bool = True,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, bias_correction)


OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
}
"""Names understood by :func:`make_optimizer`: the class and its preset arguments."""


def make_optimizer(name: str, params: Iterable[Any], **hyper: Any) -> torch.optim.Optimizer:
    """Build an optimizer of this module by name (see :data:`OPTIMIZERS`).

    ``make_optimizer("nesterov", model.parameters(), lr=0.1)`` is
    ``SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)``; keyword
    arguments override the presets.
    """
    try:
        cls, preset = OPTIMIZERS[name]
    except KeyError:
        valid = list(OPTIMIZERS)
        raise ValueError(f"unknown optimizer {name!r}; expected one of {valid}") from None
    return cls(params, **{**preset, **hyper})


# --------------------------------------------------------------------------- second order


def newton_step(
    f: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, damping: float = 0.0
) -> torch.Tensor:
    r"""One Newton step: jump to the minimum of the local quadratic model.

    From :math:`f(w + \delta) \approx f(w) + \nabla f^\top \delta +
    \tfrac12 \delta^\top H \delta`, setting the derivative in :math:`\delta`
    to zero gives

    .. math:: w_{t+1} = w_t - (H + \lambda I)^{-1} \nabla f(w_t)

    (``damping`` :math:`\lambda = 0` is the pure Newton step).  No learning
    rate; exact in one step on a quadratic.  For :math:`N` parameters the
    Hessian has :math:`N^2` entries and solving costs :math:`O(N^3)`, which is
    why deep nets use first-order methods.  ``w`` is a vector (or any shape,
    flattened); returns a new tensor of its shape.
    """
    shape = w.shape
    x = w.detach().reshape(-1)

    def flat(v: torch.Tensor) -> torch.Tensor:
        return f(v.reshape(shape))

    grad = torch.func.grad(flat)(x)
    # reverse-over-reverse: torch.func.hessian's forward mode needs more of torch's internals
    hess = torch.func.jacrev(torch.func.grad(flat))(x)
    if damping:
        hess = hess + damping * torch.eye(x.numel(), dtype=x.dtype, device=x.device)
    return (x - torch.linalg.solve(hess, grad)).reshape(shape)


# --------------------------------------------------------------------------- 2-D test problems


@dataclass
class TestFunction:
    """A 2-D loss surface for optimiser pictures: ``f(xy)`` on tensors of shape (..., 2).

    ``minimum`` is a global minimiser, ``start`` a suggested starting point,
    ``xlim``/``ylim`` a good plotting window, ``hessian`` the constant Hessian
    of a quadratic (else ``None``), ``gradient`` the analytic gradient (used by
    :meth:`grad`; autograd when ``None``).
    """

    __test__ = False  # not a pytest test class

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    hessian: torch.Tensor | None = field(default=None, repr=False)
    gradient: Callable[[torch.Tensor], torch.Tensor] | None = field(default=None, repr=False)

    def __call__(self, xy: torch.Tensor) -> torch.Tensor:
        return self.fn(xy)

    def grad(self, xy: torch.Tensor) -> torch.Tensor:
        """The gradient at ``xy`` (shape (..., 2))."""
        if self.gradient is not None:
            return self.gradient(xy)
        return _autograd_gradient(self.fn, xy)

    @property
    def condition_number(self) -> float | None:
        r""":math:`\kappa = \lambda_{max}/\lambda_{min}` of the Hessian (quadratics only)."""
        if self.hessian is None:
            return None
        eig = torch.linalg.eigvalsh(self.hessian)
        return (eig.max() / eig.min()).item()


def _autograd_gradient(fn: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        x = w.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g


def ill_conditioned_quadratic(
    condition_number: float = 20.0, angle: float = 0.0, scale: float = 1.0
) -> TestFunction:
    r"""A quadratic bowl :math:`f(w) = \tfrac12 w^\top H w` with a chosen condition number.

    :math:`H = R\,\mathrm{diag}(s/\kappa, s)\,R^\top` with :math:`R` a rotation
    by ``angle`` radians: the curvature is :math:`\kappa` times larger across
    the valley than along it.  Gradient descent must use
    :math:`\alpha < 2/\lambda_{max}` to stay stable, and then crawls along the
    flat direction at a rate governed by :math:`1 - \alpha\lambda_{min}`.  A
    rotated bowl (``angle != 0``) is no longer aligned with the coordinates,
    which per-coordinate methods (AdaGrad, RMSProp, Adam) cannot fix.  The
    suggested start lies far out along the valley, (-4, 1.5) before rotation.
    """
    if condition_number < 1:
        raise ValueError(f"condition_number must be >= 1, got {condition_number}")
    c, s = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    hess = rot @ torch.diag(torch.tensor([scale / condition_number, scale],
                                         dtype=torch.float64)) @ rot.T

    def fn(xy: torch.Tensor) -> torch.Tensor:
        h = hess.to(dtype=xy.dtype, device=xy.device)
        return 0.5 * torch.einsum("...i,ij,...j->...", xy, h, xy)

    def gradient(xy: torch.Tensor) -> torch.Tensor:
        return xy @ hess.to(dtype=xy.dtype, device=xy.device)  # H is symmetric

    start = rot @ torch.tensor([-4.0, 1.5], dtype=torch.float64)  # along the valley
    return TestFunction(
        name=f"quadratic (condition number {condition_number:g})",
        fn=fn, minimum=(0.0, 0.0), start=(start[0].item(), start[1].item()),
        xlim=(-5.0, 5.0), ylim=(-3.5, 3.5) if angle else (-2.5, 2.5),
        hessian=hess, gradient=gradient,
    )


def _rosenbrock(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return torch.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], dim=-1)


rosenbrock = TestFunction(
    name="Rosenbrock", fn=_rosenbrock, minimum=(1.0, 1.0), start=(-1.5, 2.0),
    xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), gradient=_rosenbrock_grad,
)
r"""Rosenbrock's banana valley :math:`(1-x)^2 + 100(y-x^2)^2`, minimum at (1, 1).

Rosenbrock, 1960, "An automatic method for finding the greatest or least value
of a function".  The valley floor is curved and very flat along its length."""


def _saddle(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return x**2 + 0.25 * y**4 - 0.5 * y**2


def _saddle_grad(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return torch.stack([2 * x, y**3 - y], dim=-1)


saddle = TestFunction(
    name="saddle", fn=_saddle, minimum=(0.0, 1.0), start=(-1.5, 1e-3),
    xlim=(-2.0, 2.0), ylim=(-1.6, 1.6), gradient=_saddle_grad,
)
r"""A saddle at the origin between two minima: :math:`x^2 + y^4/4 - y^2/2`.

Minima at (0, ±1) with value -1/4.  Starting almost on the ridge (tiny y),
the gradient in y is tiny near the saddle, and plain gradient descent lingers
there -- in high dimensions such saddles are far more common than bad local
minima (Dauphin et al., 2014, "Identifying and attacking the saddle point
problem in high-dimensional non-convex optimization")."""


RULES: dict[str, tuple[Callable[..., tuple[torch.Tensor, State]], dict[str, Any]]] = {
    "sgd": (sgd_momentum, {"momentum": 0.0}),
    "momentum": (sgd_momentum, {"momentum": 0.9}),
    "nesterov": (sgd_momentum, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (adagrad, {}),
    "rmsprop": (rmsprop, {}),
    "adam": (adam, {}),
    "adamw": (adam, {"decoupled": True, "weight_decay": 1e-2}),
}
"""The update rule behind each name of :data:`OPTIMIZERS`, with the same presets."""


def run_trajectory(
    fn: Callable[[torch.Tensor], torch.Tensor],
    optimizer: str | Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    start: Sequence[float] | torch.Tensor,
    steps: int,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
    **hyper: Any,
) -> torch.Tensor:
    r"""Optimise a 2-D function from ``start`` and return the path, shape (steps + 1, 2).

    ``optimizer`` is a name of :data:`OPTIMIZERS` (run with its update rule of
    :data:`RULES`; ``hyper`` holds its arguments, e.g. ``lr=0.1``),
    ``"newton"`` (:func:`newton_step`), or a factory ``params ->
    torch.optim.Optimizer``.  ``noise`` adds :math:`\mathcal N(0, \sigma^2 I)`
    to every gradient, a stand-in for minibatch noise.  Gradients come from
    ``fn.grad`` for a :class:`TestFunction`, else from autograd.  Computed in
    float64; once the iterate is no longer finite (divergence) the rest of the
    path is NaN.
    """
    w = torch.as_tensor(start, dtype=torch.float64).detach().clone()
    path = torch.full((steps + 1, 2), math.nan, dtype=torch.float64)
    path[0] = w

    def gradient(x: torch.Tensor) -> torch.Tensor:
        g = fn.grad(x) if isinstance(fn, TestFunction) else _autograd_gradient(fn, x)
        if noise:
            g = g + noise * torch.randn(2, generator=generator, dtype=g.dtype)
        return g

    if optimizer == "newton":
        def update(x: torch.Tensor) -> torch.Tensor:
            return newton_step(fn, x, **hyper)
    elif isinstance(optimizer, str):
        if optimizer not in RULES:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected 'newton' or one of "
                             f"{list(RULES)}")
        rule, preset = RULES[optimizer]
        kwargs, state = {**preset, **hyper}, {}

        def update(x: torch.Tensor) -> torch.Tensor:
            nonlocal state
            x_next, state = rule(x, gradient(x), state, **kwargs)
            return x_next
    else:
        param = torch.nn.Parameter(w.clone())
        opt = optimizer([param])

        def update(x: torch.Tensor) -> torch.Tensor:
            param.grad = gradient(param.detach())
            opt.step()
            return param.detach().clone()

    for k in range(1, steps + 1):
        w = update(w)
        if not torch.isfinite(w).all():
            break
        path[k] = w
    return path
