"""Activation functions, their derivatives, and a dead-unit counter.

Every activation is written with elementary tensor operations (no
``torch.nn.functional``) in a form that stays finite for inputs as large as
``|x| = 1e4`` in float32 and float64.  Each comes with an explicit derivative
``<name>_backward(grad_out, x, ...)`` that returns ``grad_out * f'(x)``; at kinks
(``x == 0``) it returns what PyTorch's autograd returns.  The public forward
functions are differentiable: autograd calls the explicit derivative, so the
formulas that are tested are the ones used in training.

Public names
------------
Forward: ``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``, ``prelu``, ``elu``,
``selu``, ``gelu``, ``silu`` (alias ``swish``), ``mish``, ``softplus``,
``softsign``, ``maxout``.

Derivatives: ``sigmoid_backward``, ``tanh_backward``, ``relu_backward``,
``leaky_relu_backward``, ``prelu_backward``, ``elu_backward``, ``selu_backward``,
``gelu_backward``, ``silu_backward`` (alias ``swish_backward``),
``mish_backward``, ``softplus_backward``, ``softsign_backward``,
``maxout_backward``.

Constants: ``SELU_ALPHA``, ``SELU_SCALE``.

Modules and helpers: ``Activation`` (module wrapping any of the functions),
``PReLU``, ``Maxout``, ``ACTIVATIONS`` (name -> function),
``get_activation(name) -> nn.Module``, ``count_dead_units(model, x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "ACTIVATIONS",
    "Activation",
    "Maxout",
    "PReLU",
    "count_dead_units",
    "elu",
    "elu_backward",
    "gelu",
    "gelu_backward",
    "get_activation",
    "leaky_relu",
    "leaky_relu_backward",
    "maxout",
    "maxout_backward",
    "mish",
    "mish_backward",
    "prelu",
    "prelu_backward",
    "relu",
    "relu_backward",
    "selu",
    "selu_backward",
    "sigmoid",
    "sigmoid_backward",
    "silu",
    "silu_backward",
    "softplus",
    "softplus_backward",
    "softsign",
    "softsign_backward",
    "swish",
    "swish_backward",
    "tanh",
    "tanh_backward",
]

# The fixed point constants of Klambauer et al. (2017), "Self-Normalizing Neural Networks".
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_COEF = 0.044715
_GELU_SIGMOID_COEF = 1.702


# --------------------------------------------------------------------------------------
# Autograd glue: forward formula + explicit derivative as one differentiable function.
# --------------------------------------------------------------------------------------
class _Elementwise(torch.autograd.Function):
    """Runs ``forward_fn(x, **kw)``; its backward is ``backward_fn(grad_out, x, **kw)``."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, forward_fn: Callable, backward_fn: Callable, kw: dict
    ) -> Tensor:
        ctx.save_for_backward(x)
        ctx.backward_fn = backward_fn
        ctx.kw = kw
        return forward_fn(x, **kw)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, None, None]:
        (x,) = ctx.saved_tensors
        return ctx.backward_fn(grad_out, x, **ctx.kw), None, None, None


def _differentiable(forward_fn: Callable, backward_fn: Callable, x: Tensor, **kw: Any) -> Tensor:
    if torch.is_grad_enabled() and x.requires_grad:
        return _Elementwise.apply(x, forward_fn, backward_fn, kw)
    return forward_fn(x, **kw)


def _stable_sigmoid(x: Tensor) -> Tensor:
    # exp(-|x|) <= 1 never overflows; pick 1/(1+e) or e/(1+e) by the sign of x.
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _stable_tanh(x: Tensor) -> Tensor:
    # tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|)): no overflow, and expm1 keeps full
    # relative precision for tiny |x| where 1 - exp(-2|x|) would cancel.
    m = torch.expm1(-2.0 * x.abs())
    return torch.copysign(-m / (2.0 + m), x)


# --------------------------------------------------------------------------------------
# Sigmoid and tanh
# --------------------------------------------------------------------------------------
def _sigmoid_forward(x: Tensor) -> Tensor:
    return _stable_sigmoid(x)


def sigmoid_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of the sigmoid: :math:`\sigma'(x) = \sigma(x)\,(1-\sigma(x))`.

    The factor is at most 1/4 (at :math:`x = 0`) and vanishes in both tails, which is
    why saturated sigmoid units "kill" the gradient.  Returns ``grad_out * σ'(x)``.
    """
    s = _stable_sigmoid(x)
    return grad_out * s * (1.0 - s)


def sigmoid(x: Tensor) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Computed as :math:`1/(1+e^{-|x|})` for :math:`x \ge 0` and
    :math:`e^{-|x|}/(1+e^{-|x|})` otherwise, so it never overflows.
    (The classic "firing rate" nonlinearity; see LeCun et al. 1998, "Efficient BackProp".)
    """
    return _differentiable(_sigmoid_forward, sigmoid_backward, x)


def _tanh_forward(x: Tensor) -> Tensor:
    return _stable_tanh(x)


def tanh_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of tanh: :math:`\tanh'(x) = 1 - \tanh^2(x)` (1 at 0, vanishing in the tails)."""
    t = _stable_tanh(x)
    return grad_out * (1.0 - t * t)


def tanh(x: Tensor) -> Tensor:
    r"""Hyperbolic tangent :math:`\tanh(x) = (e^{x}-e^{-x})/(e^{x}+e^{-x}) = 2\sigma(2x) - 1`.

    Zero-centred, range (-1, 1); computed from :math:`\operatorname{expm1}(-2|x|)` so it
    neither overflows nor loses precision near 0 (LeCun et al. 1998, "Efficient BackProp").
    """
    return _differentiable(_tanh_forward, tanh_backward, x)


# --------------------------------------------------------------------------------------
# The ReLU family
# --------------------------------------------------------------------------------------
def _relu_forward(x: Tensor) -> Tensor:
    return x.clamp_min(0.0)  # clamp propagates NaN, as torch.relu does


def relu_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of ReLU: 1 where :math:`x > 0`, else 0 (also 0 at :math:`x = 0`, as autograd)."""
    return grad_out * (x > 0).to(grad_out.dtype)


def relu(x: Tensor) -> Tensor:
    r"""Rectified linear unit :math:`\max(0, x)`.

    Nair and Hinton (2010), "Rectified Linear Units Improve Restricted Boltzmann Machines";
    popularised by Krizhevsky et al. (2012), "ImageNet Classification with Deep
    Convolutional Neural Networks".
    """
    return _differentiable(_relu_forward, relu_backward, x)


def _leaky_relu_forward(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return torch.where(x > 0, x, x * negative_slope)


def leaky_relu_backward(grad_out: Tensor, x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r"""Derivative of leaky ReLU: 1 where :math:`x > 0`, else ``negative_slope`` (also at 0)."""
    return torch.where(x > 0, grad_out, grad_out * negative_slope)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r"""Leaky ReLU :math:`\max(\alpha x, x)` for :math:`0 \le \alpha < 1`:
    :math:`x` if :math:`x > 0` else :math:`\alpha x`.

    The small negative slope keeps a gradient flowing, so units cannot "die".
    PyTorch's default :math:`\alpha = 0.01`; the lectures often use 0.1.
    Maas et al. (2013), "Rectifier Nonlinearities Improve Neural Network Acoustic Models".
    """
    return _differentiable(
        _leaky_relu_forward, leaky_relu_backward, x, negative_slope=negative_slope
    )


def _prelu_slope(x: Tensor, weight: Tensor) -> Tensor:
    """Broadcast a PReLU weight of shape (1,) or (C,) over x with channels on dim 1."""
    if weight.dim() != 1:
        raise ValueError(f"prelu weight must be 1-D, got shape {tuple(weight.shape)}")
    if weight.numel() == 1:
        return weight.reshape(())
    if x.dim() < 2 or x.shape[1] != weight.numel():
        raise ValueError(
            f"prelu weight has {weight.numel()} entries but the input has "
            f"{x.shape[1] if x.dim() >= 2 else 'no'} channels (dim 1)"
        )
    return weight.reshape([-1] + [1] * (x.dim() - 2))


class _PReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return torch.where(x > 0, x, _prelu_slope(x, weight) * x)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, Tensor]:
        x, weight = ctx.saved_tensors
        return prelu_backward(grad_out, x, weight)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    r"""Parametric ReLU: :math:`x` if :math:`x > 0` else :math:`a_c x`, with learned slopes.

    ``weight`` has one entry (shared) or one per channel (dim 1 of ``x``), as
    ``torch.nn.PReLU``.  He et al. (2015), "Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification".
    """
    return _PReLUFunction.apply(x, weight)


def prelu_backward(grad_out: Tensor, x: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    r"""Gradients of PReLU with respect to the input and to the slopes.

    :math:`\partial f/\partial x = 1` for :math:`x > 0` else :math:`a`;
    :math:`\partial f/\partial a = 0` for :math:`x > 0` else :math:`x`, summed over every
    position that shares the slope.  Returns ``(grad_x, grad_weight)``.
    """
    slope = _prelu_slope(x, weight)
    positive = x > 0
    grad_x = torch.where(positive, grad_out, grad_out * slope)
    per_element = torch.where(positive, torch.zeros_like(grad_out), grad_out * x)
    if weight.numel() == 1:
        grad_w = per_element.sum().reshape(1)
    else:
        dims = [d for d in range(x.dim()) if d != 1]
        grad_w = per_element.sum(dim=dims)
    return grad_x, grad_w.to(weight.dtype)


def _elu_forward(x: Tensor, alpha: float = 1.0) -> Tensor:
    # expm1 of min(x, 0): the unused branch never overflows and keeps precision near 0.
    return torch.where(x > 0, x, alpha * torch.expm1(x.clamp_max(0.0)))


def elu_backward(grad_out: Tensor, x: Tensor, alpha: float = 1.0) -> Tensor:
    r"""Derivative of ELU: 1 for :math:`x > 0`, :math:`\alpha e^{x}` for :math:`x \le 0`."""
    return torch.where(x > 0, grad_out, grad_out * (alpha * torch.exp(x.clamp_max(0.0))))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    r"""Exponential linear unit: :math:`x` if :math:`x > 0` else :math:`\alpha(e^{x} - 1)`.

    Negative outputs push the mean activation towards zero; the negative side saturates
    at :math:`-\alpha`.  Clevert, Unterthiner and Hochreiter (2016), "Fast and Accurate
    Deep Network Learning by Exponential Linear Units (ELUs)".
    """
    return _differentiable(_elu_forward, elu_backward, x, alpha=alpha)


def _selu_forward(x: Tensor) -> Tensor:
    return SELU_SCALE * _elu_forward(x, SELU_ALPHA)


def selu_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of SELU: :math:`\lambda` for :math:`x > 0`, else :math:`\lambda\alpha e^{x}`."""
    return SELU_SCALE * elu_backward(grad_out, x, SELU_ALPHA)


def selu(x: Tensor) -> Tensor:
    r"""Scaled ELU :math:`\lambda\,\mathrm{elu}_\alpha(x)` with :math:`\alpha \approx 1.6733`,
    :math:`\lambda \approx 1.0507`.

    The constants make zero mean / unit variance a stable fixed point of a layer's
    activation statistics ("self-normalising").  Klambauer et al. (2017),
    "Self-Normalizing Neural Networks".
    """
    return _differentiable(_selu_forward, selu_backward, x)


# --------------------------------------------------------------------------------------
# Smooth ReLU-like functions
# --------------------------------------------------------------------------------------
def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh", "sigmoid"):
        raise ValueError(f"approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")


# Beyond |x| = 25 the tanh form's inner argument u exceeds 577 and σ(±2u) is exactly 0 or 1
# in every float type; clamping x inside u keeps x³ from overflowing in float16.
_GELU_TANH_CLAMP = 25.0


def _gelu_tanh_inner(x: Tensor) -> Tensor:
    xc = x.clamp(-_GELU_TANH_CLAMP, _GELU_TANH_CLAMP)
    return _SQRT_2_OVER_PI * (xc + _GELU_TANH_COEF * xc * xc * xc)


def _gelu_forward(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate == "none":
        # x Φ(x) with Φ(x) = erfc(-x/√2)/2: erfc keeps precision where 1 + erf(x) cancels.
        return 0.5 * x * torch.erfc(-x * _SQRT_HALF)
    if approximate == "tanh":
        # (1 + tanh u)/2 = σ(2u): no cancellation in the negative tail.
        return x * _stable_sigmoid(2.0 * _gelu_tanh_inner(x))
    return x * _stable_sigmoid(_GELU_SIGMOID_COEF * x)


def gelu_backward(grad_out: Tensor, x: Tensor, approximate: str = "none") -> Tensor:
    r"""Derivative of GELU.

    Exact form: :math:`\Phi(x) + x\,\varphi(x)` with the standard normal cdf Φ and pdf φ.
    ``"tanh"``: derivative of :math:`\tfrac12 x(1+\tanh u)`, :math:`u=\sqrt{2/\pi}(x+0.044715x^3)`.
    ``"sigmoid"``: :math:`s + 1.702\,x\,s(1-s)` with :math:`s=\sigma(1.702x)`.
    """
    _check_approximate(approximate)
    if approximate == "none":
        cdf = 0.5 * torch.erfc(-x * _SQRT_HALF)
        pdf = _INV_SQRT_2PI * torch.exp(-0.5 * x * x)
        return grad_out * (cdf + x * pdf)
    if approximate == "tanh":
        # With s = σ(2u): (1 + tanh u)/2 = s and (1 - tanh² u)/2 = 2 s (1 - s).
        u = _gelu_tanh_inner(x)
        s, s_neg = _stable_sigmoid(2.0 * u), _stable_sigmoid(-2.0 * u)
        xc = x.clamp(-_GELU_TANH_CLAMP, _GELU_TANH_CLAMP)
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_COEF * xc * xc)
        return grad_out * (s + (2.0 * s * s_neg * du) * x)  # x last: 2x overflows float16
    s = _stable_sigmoid(_GELU_SIGMOID_COEF * x)
    return grad_out * (s + _GELU_SIGMOID_COEF * x * s * (1.0 - s))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    r"""Gaussian error linear unit :math:`x\,\Phi(x) = \tfrac{x}{2}(1 + \mathrm{erf}(x/\sqrt2))`.

    ``approximate="tanh"``: :math:`\tfrac{x}{2}(1+\tanh(\sqrt{2/\pi}(x+0.044715x^3)))`
    (PyTorch's ``approximate="tanh"``); ``approximate="sigmoid"``: :math:`x\,\sigma(1.702x)`.
    Hendrycks and Gimpel (2016), "Gaussian Error Linear Units (GELUs)".
    """
    _check_approximate(approximate)
    return _differentiable(_gelu_forward, gelu_backward, x, approximate=approximate)


def _silu_forward(x: Tensor) -> Tensor:
    return x * _stable_sigmoid(x)


def silu_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of SiLU: :math:`\sigma(x)\,(1 + x(1 - \sigma(x)))`."""
    s = _stable_sigmoid(x)
    return grad_out * (s * (1.0 + x * (1.0 - s)))


def silu(x: Tensor) -> Tensor:
    r"""Sigmoid linear unit / Swish (β = 1): :math:`x\,\sigma(x)`.

    Elfwing, Uchibe and Doya (2018), "Sigmoid-Weighted Linear Units for Neural Network
    Function Approximation in Reinforcement Learning"; Ramachandran, Zoph and Le (2017),
    "Searching for Activation Functions" (as Swish).
    """
    return _differentiable(_silu_forward, silu_backward, x)


swish = silu
swish_backward = silu_backward


def _softplus_forward(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    bx = beta * x
    # log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}) never overflows, even in float16; above
    # the threshold PyTorch returns x itself, and so do we.
    soft = (bx.clamp_min(0.0) + torch.log1p(torch.exp(-bx.abs()))) / beta
    return torch.where(bx > threshold, x, soft)


def softplus_backward(
    grad_out: Tensor, x: Tensor, beta: float = 1.0, threshold: float = 20.0
) -> Tensor:
    r"""Derivative of softplus: :math:`\sigma(\beta x)` (1 above the linear threshold)."""
    bx = beta * x
    return torch.where(bx > threshold, grad_out, grad_out * _stable_sigmoid(bx))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""Softplus :math:`\tfrac1\beta \log(1 + e^{\beta x})`, a smooth ReLU; linear where
    :math:`\beta x > \text{threshold}` (PyTorch's convention).

    Dugas et al. (2001), "Incorporating Second-Order Functional Knowledge for Better
    Option Pricing"; Glorot, Bordes and Bengio (2011), "Deep Sparse Rectifier Neural Networks".
    """
    return _differentiable(_softplus_forward, softplus_backward, x, beta=beta, threshold=threshold)


def _mish_forward(x: Tensor) -> Tensor:
    return x * _stable_tanh(_softplus_forward(x))


def mish_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of Mish: :math:`t + x(1 - t^2)\sigma(x)`, :math:`t = \tanh(\mathrm{sp}(x))`."""
    t = _stable_tanh(_softplus_forward(x))
    return grad_out * (t + x * (1.0 - t * t) * _stable_sigmoid(x))


def mish(x: Tensor) -> Tensor:
    r"""Mish :math:`x \tanh(\operatorname{softplus}(x))`.

    Misra (2019), "Mish: A Self Regularized Non-Monotonic Activation Function".
    """
    return _differentiable(_mish_forward, mish_backward, x)


def _softsign_forward(x: Tensor) -> Tensor:
    return x / (1.0 + x.abs())


def softsign_backward(grad_out: Tensor, x: Tensor) -> Tensor:
    r"""Derivative of softsign: :math:`1 / (1 + |x|)^2`."""
    d = 1.0 + x.abs()
    return grad_out / (d * d)


def softsign(x: Tensor) -> Tensor:
    r"""Softsign :math:`x / (1 + |x|)`: like tanh but with polynomial tails.

    Bergstra et al. (2009), "Quadratic Polynomials Learn Better Image Features";
    compared by Glorot and Bengio (2010), "Understanding the difficulty of training deep
    feedforward neural networks".
    """
    return _differentiable(_softsign_forward, softsign_backward, x)


# --------------------------------------------------------------------------------------
# Maxout
# --------------------------------------------------------------------------------------
def _maxout_groups(x: Tensor, pieces: int, dim: int) -> tuple[Tensor, int]:
    if pieces < 1:
        raise ValueError(f"pieces must be >= 1, got {pieces}")
    dim = dim % x.dim()
    if x.shape[dim] % pieces != 0:
        raise ValueError(f"size {x.shape[dim]} of dim {dim} is not divisible by pieces={pieces}")
    return x.unflatten(dim, (x.shape[dim] // pieces, pieces)), dim + 1


def maxout(x: Tensor, pieces: int, dim: int = -1) -> Tensor:
    r"""Maxout over groups of ``pieces`` consecutive features of ``dim``:
    :math:`h_k = \max_{j < p} z_{k p + j}`, so ``dim`` shrinks by a factor ``pieces``.

    Applied to ``z = Wx + b`` it gives :math:`\max(w_1^\top x + b_1, \dots, w_p^\top x + b_p)`,
    which generalises ReLU (:math:`p = 2`, one piece fixed at 0) and leaky ReLU.
    Goodfellow et al. (2013), "Maxout Networks".
    """
    grouped, group_dim = _maxout_groups(x, pieces, dim)
    return grouped.max(dim=group_dim).values


def maxout_backward(grad_out: Tensor, x: Tensor, pieces: int, dim: int = -1) -> Tensor:
    """Derivative of maxout: the gradient goes to the (first) arg-max of each group, as
    autograd does through ``Tensor.max(dim)``; the other pieces get 0."""
    grouped, group_dim = _maxout_groups(x, pieces, dim)
    index = grouped.max(dim=group_dim, keepdim=True).indices
    grad = torch.zeros(grouped.shape, dtype=grad_out.dtype, device=grad_out.device)
    grad.scatter_(group_dim, index, grad_out.unsqueeze(group_dim))
    return grad.flatten(group_dim - 1, group_dim)


# --------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------
class Activation(nn.Module):
    """An ``nn.Module`` applying one of this module's elementwise functions.

    ``name`` is the key in ``ACTIVATIONS``; ``kwargs`` are its hyper-parameters
    (e.g. ``Activation("leaky_relu", negative_slope=0.1)``).
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__()
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
        self.name = name
        self.kwargs = kwargs
        self.fn = partial(ACTIVATIONS[name], **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name!r}" + (f", {args}" if args else "")


class PReLU(nn.Module):
    """Parametric ReLU with ``num_parameters`` learned slopes initialised to ``init``
    (1 shared slope, or one per channel), as ``torch.nn.PReLU``.  He et al. (2015)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x: Tensor) -> Tensor:
        return prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Maxout(nn.Module):
    """Maxout layer: a linear map to ``out_features * pieces`` units followed by a max
    over each group of ``pieces``.  Goodfellow et al. (2013), "Maxout Networks"."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True):
        super().__init__()
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return maxout(self.linear(x), self.pieces, dim=-1)


ACTIVATIONS: dict[str, Callable[..., Tensor]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "silu": silu,
    "swish": swish,
    "mish": mish,
    "softplus": softplus,
    "softsign": softsign,
}
"""Elementwise activations by name (``prelu`` and ``maxout`` have parameters / change the
shape; they are available as the ``PReLU`` and ``Maxout`` modules)."""


def get_activation(name: str, **kwargs: Any) -> nn.Module:
    """A fresh module for the activation called ``name``.

    Names: the keys of ``ACTIVATIONS`` plus ``"prelu"`` (a ``PReLU`` with one slope)
    and ``"identity"``.  ``kwargs`` go to the function (or to ``PReLU``).
    """
    if name == "prelu":
        return PReLU(**kwargs)
    if name in ("identity", "linear"):
        return nn.Identity()
    if name not in ACTIVATIONS:
        known = sorted([*ACTIVATIONS, "prelu", "identity"])
        raise ValueError(f"unknown activation {name!r}; expected one of {known}")
    return Activation(name, **kwargs)


# Modules whose units can sit in a flat (zero-output) or negative regime for a whole batch.
_RELU_FAMILY_NAMES = {"relu", "leaky_relu", "elu", "selu"}
_RELU_FAMILY_TYPES: tuple[type[nn.Module], ...] = (
    PReLU,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.RReLU,
)


def _is_relu_family(module: nn.Module) -> bool:
    if isinstance(module, Activation):
        return module.name in _RELU_FAMILY_NAMES
    return isinstance(module, _RELU_FAMILY_TYPES)


@torch.no_grad()
def count_dead_units(model: nn.Module, x: Tensor) -> dict[str, int]:
    r"""Count, per ReLU-family activation module, the units that are inactive on the whole batch.

    A unit (one feature, or one channel-position of a feature map) is counted when its
    *input* is :math:`\le 0` for every example of ``x``.  For ReLU this is exactly "the
    output is 0 for every example": the unit also gets zero gradient on that batch, and
    when it holds for all data it never recovers (a dead ReLU).  For leaky ReLU, PReLU,
    ELU and SELU the same count measures units stuck on the negative side, which still
    receive a gradient (the motivation of Maas et al. 2013 and He et al. 2015).

    The model runs once in eval mode (dropout off) and is put back in its previous mode.
    Returns ``{module name: count}`` for every ReLU-family module, in forward order.
    """
    counts: dict[str, int] = {}
    handles = []

    def make_hook(name: str) -> Callable:
        def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            pre = inputs[0]
            inactive = (pre <= 0).reshape(pre.shape[0], -1).all(dim=0)
            counts[name] = counts.get(name, 0) + int(inactive.sum())

        return hook

    for name, module in model.named_modules():
        if _is_relu_family(module):
            handles.append(module.register_forward_hook(make_hook(name)))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return counts
