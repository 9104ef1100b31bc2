"""Weight initialisation: fans, gains, Xavier and Kaiming schemes, residual zero-init, and
the lectures' activation-statistics experiment.

The ``*_`` functions have ``torch.nn.init``'s semantics: they fill a tensor in place without
recording autograd history and return it, and, drawing from the same generator in the same
way, they produce exactly the numbers ``torch.nn.init`` produces.

Public names
------------
``calculate_fan_in_and_fan_out``, ``calculate_gain``, ``xavier_uniform_``, ``xavier_normal_``,
``kaiming_uniform_``, ``kaiming_normal_``, ``zero_init_residual_``, ``init_weights_``
(``INIT_SCHEMES``), ``activation_statistics`` (returns ``ActivationStatistics``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nntrain.activations import ACTIVATIONS

__all__ = [
    "INIT_SCHEMES",
    "ActivationStatistics",
    "activation_statistics",
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "init_weights_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zero_init_residual_",
]

_LINEAR_NAMES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_fan_in_and_fan_out(shape: Tensor | Sequence[int]) -> tuple[int, int]:
    r"""Fan-in and fan-out of a weight of the given shape (or of a tensor).

    A weight is laid out ``(out_features, in_features, *kernel)`` as in ``nn.Linear`` and
    ``nn.ConvNd``, so with receptive field :math:`r = \prod \text{kernel}`:
    :math:`\text{fan\_in} = \text{in} \cdot r` and :math:`\text{fan\_out} = \text{out} \cdot r`.
    For a conv layer that is :math:`k^2 C_{in}` inputs per output, the "Din" of the
    lectures.  Raises ``ValueError`` for fewer than two dimensions.
    """
    dims = tuple(shape.shape) if isinstance(shape, Tensor) else tuple(int(d) for d in shape)
    if len(dims) < 2:
        raise ValueError(
            "fan in and fan out can not be computed for a shape with fewer than 2 dimensions, "
            f"got {dims}"
        )
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The gain :math:`g` that keeps activations' scale through ``nonlinearity``.

    ``linear``/conv: 1, ``sigmoid``: 1, ``tanh``: 5/3, ``relu``: :math:`\sqrt2`,
    ``leaky_relu`` with slope :math:`a` (``param``, default 0.01): :math:`\sqrt{2/(1+a^2)}`,
    ``selu``: 3/4 — the values of ``torch.nn.init.calculate_gain``.  The ReLU factor 2 is the
    argument of He et al. (2015), "Delving Deep into Rectifiers": a ReLU zeroes half of a
    symmetric input, halving :math:`E[x^2]`.  ``ValueError`` for an unknown name or a
    non-numeric slope.
    """
    if nonlinearity in _LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """g / sqrt(fan) for the Kaiming schemes, or None for an empty tensor (left as is)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    gain = calculate_gain(nonlinearity, a)
    if 0 in tensor.shape:
        warnings.warn("initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    r"""Fill ``tensor`` from :math:`U(-b, b)` with
    :math:`b = g\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    The variance :math:`b^2/3 = 2g^2/(\text{fan\_in}+\text{fan\_out})` compromises between
    keeping forward activations (:math:`1/\text{fan\_in}`) and backward gradients
    (:math:`1/\text{fan\_out}`) at constant scale.  Glorot and Bengio (2010), "Understanding the
    difficulty of training deep feedforward neural networks".  In place, no autograd.
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    # sqrt(3)·std rather than sqrt(6/(fan_in+fan_out)): the same rounding as torch.nn.init
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    r"""Fill ``tensor`` from :math:`N(0, \sigma^2)` with
    :math:`\sigma = g\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Glorot and Bengio (2010), "Understanding the difficulty of training deep feedforward
    neural networks".  For a square layer :math:`\sigma = g/\sqrt{D_{in}}`, the lectures'
    "Xavier" rule.  In place, no autograd.
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Fill ``tensor`` from :math:`U(-b, b)`, :math:`b = g\sqrt{3/\text{fan}}` with
    :math:`g` = ``calculate_gain(nonlinearity, a)``, so :math:`\mathrm{Var} = g^2/\text{fan}`.

    ``mode="fan_in"`` preserves the forward variance, ``"fan_out"`` the backward one.
    He et al. (2015), "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
    ImageNet Classification".  In place, no autograd; ``ValueError`` for a bad mode or
    nonlinearity.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Fill ``tensor`` from :math:`N(0, \sigma^2)`, :math:`\sigma = g/\sqrt{\text{fan}}` with
    :math:`g` = ``calculate_gain(nonlinearity, a)``; for ReLU
    :math:`\sigma = \sqrt{2/\text{fan\_in}}`.

    He et al. (2015), "Delving Deep into Rectifiers".  In place, no autograd;
    ``ValueError`` for a bad mode or nonlinearity.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


# --------------------------------------------------------------------------------------
# Whole-model initialisation
# --------------------------------------------------------------------------------------
_WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _fill_weight(
    weight: Tensor,
    scheme: str,
    std: float,
    nonlinearity: str | None,
    generator: torch.Generator | None,
) -> None:
    xavier_gain = 1.0 if nonlinearity is None else calculate_gain(nonlinearity)
    kaiming_nonlinearity = "relu" if nonlinearity is None else nonlinearity
    with torch.no_grad():
        if scheme == "zeros":
            weight.zero_()
        elif scheme == "small":
            weight.normal_(0.0, std, generator=generator)
        elif scheme == "lecun":
            fan_in, _ = calculate_fan_in_and_fan_out(weight)
            weight.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=generator)
        elif scheme in ("xavier", "xavier_uniform"):
            xavier_uniform_(weight, xavier_gain, generator)
        elif scheme == "xavier_normal":
            xavier_normal_(weight, xavier_gain, generator)
        elif scheme in ("kaiming", "kaiming_normal"):
            kaiming_normal_(weight, nonlinearity=kaiming_nonlinearity, generator=generator)
        elif scheme == "kaiming_uniform":
            kaiming_uniform_(weight, nonlinearity=kaiming_nonlinearity, generator=generator)


INIT_SCHEMES: dict[str, str] = {
    "default": "PyTorch's own reset_parameters() of each layer",
    "zeros": "W = 0 (no symmetry breaking: every unit of a layer stays identical)",
    "small": "W ~ N(0, std²), the lectures' 0.01·randn",
    "lecun": "W ~ N(0, 1/fan_in) (LeCun et al. 1998)",
    "xavier": "xavier_uniform_, gain 1 (or calculate_gain(nonlinearity) if given)",
    "xavier_uniform": "xavier_uniform_, gain 1 (or calculate_gain(nonlinearity) if given)",
    "xavier_normal": "xavier_normal_, gain 1 (or calculate_gain(nonlinearity) if given)",
    "kaiming": "kaiming_normal_(mode='fan_in', nonlinearity='relu' unless given)",
    "kaiming_normal": "kaiming_normal_(mode='fan_in', nonlinearity='relu' unless given)",
    "kaiming_uniform": "kaiming_uniform_(mode='fan_in', nonlinearity='relu' unless given)",
}
"""The schemes ``init_weights_`` understands, with what each does to a weight."""


def init_weights_(
    model: nn.Module,
    scheme: str = "kaiming",
    std: float = 0.01,
    nonlinearity: str | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Re-initialise every ``nn.Linear`` / ``nn.ConvNd`` of ``model`` in place; biases become 0.

    ``scheme`` is a key of ``INIT_SCHEMES``.  ``std`` is used by ``"small"``.
    ``nonlinearity`` (a ``calculate_gain`` name) sets the gain: by default the Xavier schemes
    use gain 1 (Glorot and Bengio 2010) and the Kaiming schemes the ReLU gain
    :math:`\\sqrt2` (He et al. 2015).  Normalisation layers are left alone.  Draws happen in
    module order from ``generator``.  Returns ``model``.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {list(INIT_SCHEMES)}")
    if scheme == "small" and not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    if nonlinearity is not None:
        calculate_gain(nonlinearity)  # validate early
    for module in model.modules():
        if not isinstance(module, _WEIGHTED_LAYERS):
            continue
        if scheme == "default":
            module.reset_parameters()
            continue
        _fill_weight(module.weight, scheme, std, nonlinearity, generator)
        if module.bias is not None:
            with torch.no_grad():
                module.bias.zero_()
    return model


_NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm)
_SHORTCUT_NAMES = ("shortcut", "downsample", "skip", "residual")


def _last_branch_layer(block: nn.Module) -> nn.Module | None:
    """The last normalisation layer of the residual branch, else its last weighted layer."""
    shortcut_params = set()
    for name in _SHORTCUT_NAMES:
        sub = getattr(block, name, None)
        if isinstance(sub, nn.Module):
            shortcut_params.update(id(m) for m in sub.modules())
    norms, weighted = [], []
    for m in block.modules():
        if m is block or id(m) in shortcut_params:
            continue
        if isinstance(m, _NORM_LAYERS) and getattr(m, "weight", None) is not None:
            norms.append(m)
        elif isinstance(m, _WEIGHTED_LAYERS):
            weighted.append(m)
    if norms:
        return norms[-1]
    return weighted[-1] if weighted else None


@torch.no_grad()
def zero_init_residual_(model: nn.Module) -> nn.Module:
    r"""Make every residual block of ``model`` start as the identity: :math:`y = x + F(x)` with
    the last layer of the branch :math:`F` set to zero, so :math:`F(x) = 0` at initialisation.

    With Kaiming initialisation :math:`\mathrm{Var}(F(x)) \approx \mathrm{Var}(x)`, so
    :math:`\mathrm{Var}(x + F(x)) \approx 2\,\mathrm{Var}(x)` grows with every block; zeroing
    the branch's last layer keeps :math:`\mathrm{Var}(x + F(x)) = \mathrm{Var}(x)`
    (Goyal et al. 2017, "Accurate, Large Minibatch SGD", zero :math:`\gamma` of the last
    BatchNorm; Zhang et al. 2019, "Fixup Initialization").

    A block is any module with a ``zero_init_last()`` method (called), or with a shortcut
    attribute (``shortcut``, ``downsample``, ``skip`` or ``residual``): the last normalisation
    layer of its branch gets :math:`\gamma = 0` (and :math:`\beta = 0`), or, without one, the
    last Linear/Conv gets zero weight and bias.  ``ValueError`` if no block is found.
    Returns ``model``.
    """
    found = 0
    for module in model.modules():
        if callable(getattr(module, "zero_init_last", None)):
            module.zero_init_last()
            found += 1
            continue
        if not any(isinstance(getattr(module, n, None), nn.Module) for n in _SHORTCUT_NAMES):
            continue
        last = _last_branch_layer(module)
        if last is None:
            continue
        last.weight.zero_()
        if getattr(last, "bias", None) is not None:
            last.bias.zero_()
        found += 1
    if found == 0:
        raise ValueError("no residual block found (expected a zero_init_last() method or a "
                         "'shortcut'/'downsample' attribute)")  # fmt: skip
    return model


# --------------------------------------------------------------------------------------
# The lectures' experiment: activation statistics of a deep tanh/ReLU network
# --------------------------------------------------------------------------------------
@dataclass
class ActivationStatistics:
    """Per-layer statistics of ``activation_statistics``.

    ``mean[l]`` and ``std[l]`` are the mean and (population) standard deviation of all
    activations of layer ``l + 1``; ``activations`` holds the (batch, width) outputs when
    asked for.
    """

    mean: list[float]
    std: list[float]
    activations: list[Tensor] | None = None

    def __str__(self) -> str:
        rows = [f"layer {i + 1}: mean={m:+.2f} std={s:.2f}" for i, (m, s) in
                enumerate(zip(self.mean, self.std, strict=True))]  # fmt: skip
        return "\n".join(rows)


InitFn = Callable[[Tensor, torch.Generator | None], Tensor]


def _layer_init(init: str | InitFn, std: float, nonlinearity: str) -> InitFn:
    if callable(init):
        return init
    if init == "small":
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        return lambda w, g: w.normal_(0.0, std, generator=g)
    if init == "zeros":
        return lambda w, g: w.zero_()
    if init == "xavier":  # the lectures' std = 1/sqrt(Din) (= Glorot's for square layers)
        return lambda w, g: xavier_normal_(w, 1.0, g)
    if init == "kaiming":  # std = sqrt(2/Din)
        return lambda w, g: kaiming_normal_(w, nonlinearity="relu", generator=g)
    if init in ("xavier_gain", "kaiming_gain"):
        gain_of = nonlinearity if nonlinearity in ("tanh", "relu", "sigmoid", "selu") else "linear"
        if init == "xavier_gain":
            return lambda w, g: xavier_normal_(w, calculate_gain(gain_of), g)
        return lambda w, g: kaiming_normal_(w, nonlinearity=gain_of, generator=g)
    raise ValueError(
        f"unknown init {init!r}; expected 'small', 'zeros', 'xavier', 'kaiming', "
        "'xavier_gain', 'kaiming_gain' or a callable(weight, generator)"
    )


@torch.no_grad()
def activation_statistics(
    width: int = 4096,
    depth: int = 6,
    batch: int = 16,
    init: str | InitFn = "small",
    std: float = 0.01,
    nonlinearity: str | Callable[[Tensor], Tensor] = "tanh",
    generator: torch.Generator | None = None,
    return_activations: bool = False,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> ActivationStatistics:
    r"""Forward a random batch through a deep fully connected net and record each layer's
    activation mean and standard deviation — the lectures' experiment.

    :math:`x \sim N(0, I)` of shape (``batch``, ``width``); for each of ``depth`` layers a
    fresh weight :math:`W` (``width`` × ``width``, no bias) is drawn and
    :math:`x \leftarrow \phi(x W^\top)`.  ``init``: ``"small"`` (:math:`W \sim N(0,
    \text{std}^2)`, the lectures' ``0.01 * randn``), ``"zeros"``, ``"xavier"``
    (:math:`\sigma = 1/\sqrt{D_{in}}`, Glorot and Bengio 2010), ``"kaiming"``
    (:math:`\sigma = \sqrt{2/D_{in}}`, He et al. 2015), ``"xavier_gain"`` / ``"kaiming_gain"``
    (with ``calculate_gain(nonlinearity)``), or a callable ``f(weight, generator)`` filling
    the weight in place.  ``nonlinearity`` is a name in ``nntrain.activations.ACTIVATIONS``
    (or ``"linear"``) or a callable.

    With std 0.01 and tanh the stds shrink layer after layer (vanishing activations); with
    0.05 they saturate at ±1; with Xavier they stay put.  Draws happen on ``device`` from
    ``generator`` (which must live there), the input first, then each layer's weight.
    """
    if width < 1 or depth < 1 or batch < 1:
        raise ValueError(f"width, depth and batch must be >= 1, got {width}, {depth}, {batch}")
    if callable(nonlinearity):
        phi = nonlinearity
    elif nonlinearity in ("linear", "identity"):
        phi = lambda t: t  # noqa: E731
    elif nonlinearity in ACTIVATIONS:
        phi = ACTIVATIONS[nonlinearity]
    else:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}")
    fill = _layer_init(init, std, nonlinearity if isinstance(nonlinearity, str) else "linear")
    device = torch.device(device) if device is not None else (
        generator.device if generator is not None else torch.device("cpu"))  # fmt: skip
    x = torch.randn(batch, width, generator=generator, device=device, dtype=dtype)
    means, stds, kept = [], [], []
    weight = torch.empty(width, width, device=device, dtype=dtype)
    for _ in range(depth):
        fill(weight, generator)
        x = phi(x @ weight.T)
        means.append(x.mean().item())
        stds.append(x.std(correction=0).item())
        if return_activations:
            kept.append(x.cpu())
    return ActivationStatistics(means, stds, kept if return_activations else None)
