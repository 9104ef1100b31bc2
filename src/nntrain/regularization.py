"""Regularisation: weight penalties, dropout and its kin, batch normalisation, label smoothing.

Chapter 4 of the book (``book/04_regularization.md``) runs on this module; the
graded part of ``a2_regularization`` that it teaches is :func:`dropout` /
:class:`Dropout`, and :func:`label_smoothing` / :func:`smoothed_cross_entropy`
(taught with the augmentations in chapter 5).

Most of these follow one pattern: *add randomness during training, marginalise
over it at test time* — exactly (dropout's expectation, batch norm's running
statistics) or approximately (DropConnect, stochastic depth).

Public names
------------
Weight penalties: :func:`l1_penalty`, :func:`l2_penalty`, :func:`elastic_net_penalty`,
:func:`l1_proximal_` (the soft-thresholding step that makes L1 weights exactly zero).
Dropout family: :func:`dropout`, :class:`Dropout`, :func:`vanilla_dropout`,
:class:`DropConnectLinear`, :func:`drop_path`, :class:`DropPath`,
:func:`linear_drop_path_rates`, :class:`StochasticDepth` (a residual block dropped per
example or per mini-batch).
Normalisation: :func:`batch_norm`, :class:`BatchNorm`.
Targets and loss: :func:`one_hot`, :func:`label_smoothing`, :func:`smoothed_cross_entropy`.
Training control: :class:`EarlyStopping`.

Random functions take an optional ``torch.Generator``; their random numbers are
drawn on the generator's device (the global generator of the input's device when
none is given) and moved to the input's device, so a CPU generator gives the same
masks for CPU and CUDA inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "l1_penalty",
    "l2_penalty",
    "elastic_net_penalty",
    "l1_proximal_",
    "dropout",
    "vanilla_dropout",
    "Dropout",
    "DropConnectLinear",
    "drop_path",
    "DropPath",
    "linear_drop_path_rates",
    "StochasticDepth",
    "batch_norm",
    "BatchNorm",
    "label_smoothing",
    "one_hot",
    "smoothed_cross_entropy",
    "EarlyStopping",
]

Params = nn.Module | torch.Tensor | Iterable[torch.Tensor]


# --------------------------------------------------------------------------- random draws
def uniform(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """U[0, 1) numbers of ``shape`` from ``generator``, returned on ``device``.

    Drawn on the generator's own device (so a CPU generator reproduces the same numbers
    whatever ``device`` is), or on ``device`` from its default generator when ``generator``
    is None. Shared by :mod:`nntrain.augment`.
    """
    if generator is None:
        return torch.rand(shape, device=device, dtype=dtype)
    return torch.rand(shape, generator=generator, device=generator.device, dtype=dtype).to(device)


def _check_probability(p: float, name: str = "p") -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p}")


# --------------------------------------------------------------------------- penalties
def _tensors(params: Params) -> list[torch.Tensor]:
    if isinstance(params, nn.Module):
        return list(params.parameters())
    if isinstance(params, torch.Tensor):
        return [params]
    return list(params)


def l2_penalty(params: Params) -> torch.Tensor:
    r"""L2 penalty ("weight decay") :math:`R(W) = \sum_k \sum_l W_{k,l}^2` over all ``params``.

    Added to the loss as :math:`\lambda R(W)`, its gradient :math:`2\lambda W` shrinks every
    weight towards zero at a rate proportional to its size. (An optimiser's
    ``weight_decay=wd`` adds :math:`wd\cdot W` to the gradient, i.e. the penalty
    :math:`\tfrac{wd}{2}R(W)`.) Tikhonov regularisation; see Krogh & Hertz (1991),
    "A Simple Weight Decay Can Improve Generalization".

    Args:
        params: a module (all its parameters), one tensor or an iterable of tensors. Pass
            e.g. only the weight matrices to leave biases and normalisation scales unpenalised.
    """
    tensors = _tensors(params)
    if not tensors:
        return torch.tensor(0.0)
    return sum(t.pow(2).sum() for t in tensors)  # type: ignore[return-value]


def l1_penalty(params: Params) -> torch.Tensor:
    r"""L1 penalty :math:`R(W) = \sum_k \sum_l |W_{k,l}|` over all ``params``.

    Its (sub)gradient :math:`\lambda\,\mathrm{sign}(W)` has the same size for small and large
    weights, so it drives many weights exactly to zero (sparsity); Tibshirani (1996),
    "Regression Shrinkage and Selection via the Lasso".
    """
    tensors = _tensors(params)
    if not tensors:
        return torch.tensor(0.0)
    return sum(t.abs().sum() for t in tensors)  # type: ignore[return-value]


def elastic_net_penalty(params: Params, l1: float = 1.0, l2: float = 1.0) -> torch.Tensor:
    r"""Elastic net :math:`R(W) = \sum_{k,l} \ell_1 |W_{k,l}| + \ell_2 W_{k,l}^2`.

    The lectures' form :math:`\sum \beta W^2 + |W|` is ``l1=1, l2=beta``. Zou & Hastie (2005),
    "Regularization and Variable Selection via the Elastic Net".
    """
    tensors = _tensors(params)
    return l1 * l1_penalty(tensors) + l2 * l2_penalty(tensors)



@torch.no_grad()
def l1_proximal_(params: Params, threshold: float) -> None:
    r"""Soft-threshold ``params`` in place: :math:`w \leftarrow \mathrm{sign}(w)\max(|w| - t, 0)`.

    The proximal operator of :math:`t\,\lVert w\rVert_1`. Applied after each gradient step of
    the data loss with :math:`t = \eta\lambda` (learning rate times L1 strength), it is the
    proximal-gradient (ISTA) step for the L1-penalised loss; unlike the subgradient
    :math:`\lambda\,\mathrm{sign}(w)`, which makes small weights oscillate around zero, it sets
    every weight whose size falls below :math:`t` to exactly zero. Beck & Teboulle (2009), "A Fast
    Iterative Shrinkage-Thresholding Algorithm for Linear Inverse Problems".
    """
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold}")
    for t in _tensors(params):
        t.copy_(t.sign() * (t.abs() - threshold).clamp_min(0.0))

# --------------------------------------------------------------------------- dropout family
def _keep_mask(
    x: torch.Tensor, p: float, generator: torch.Generator | None, shape: tuple[int, ...] | None
) -> torch.Tensor:
    """Bernoulli(1 − p) mask in x's dtype and device; each entry is kept when u ≥ p."""
    shape = tuple(x.shape) if shape is None else shape
    return (uniform(shape, generator, x.device) >= p).to(x.dtype)


def dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Inverted dropout: zero each entry with probability ``p``, scale survivors by 1/(1 − p).

    With a mask :math:`m_i \sim \mathrm{Bernoulli}(1-p)`,

    .. math:: y_i = \frac{m_i\,x_i}{1-p}, \qquad \mathbb{E}_m[y_i] = x_i,

    so the expected activation in training equals the activation at test time and the
    network needs no change for inference (``training=False`` returns ``x`` itself).
    ``p`` is the probability of *dropping* (PyTorch's convention; the lectures' code uses
    the keep-probability). ``p=1`` drops everything (returns ``x * 0``, as
    ``torch.nn.functional.dropout`` does) and ``p=0`` returns ``x``.

    Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov (2014), "Dropout: A Simple Way to
    Prevent Neural Networks from Overfitting", JMLR 15.

    Raises:
        ValueError: unless 0 ≤ p ≤ 1.
    """
    _check_probability(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return x * _keep_mask(x, p, generator, None) * (1.0 / (1.0 - p))


def vanilla_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Dropout as first described: drop in training, *scale at test time*.

    Training: :math:`y_i = m_i x_i` with :math:`m_i \sim \mathrm{Bernoulli}(1-p)`, so
    :math:`\mathbb{E}[y_i] = (1-p)\,x_i`. Test: :math:`y_i = (1-p)\,x_i`, the same expectation.
    Equivalent in expectation to :func:`dropout` (which moves the factor into training) but
    the test-time code must know about dropout. ``p`` is the drop probability.

    Srivastava et al. (2014), "Dropout: A Simple Way to Prevent Neural Networks from
    Overfitting".
    """
    _check_probability(p)
    if not training:
        return x * (1.0 - p)
    if p == 0.0:
        return x
    return x * _keep_mask(x, p, generator, None)


class Dropout(nn.Module):
    """Inverted dropout as a module: :func:`dropout` with ``training=self.training``.

    Args:
        p: probability of zeroing an element.
        generator: optional generator for the masks (default: the global one).
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_probability(p)
        self.p = p
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class DropConnectLinear(nn.Linear):
    r"""A linear layer that drops *weights* instead of activations (DropConnect).

    Training: :math:`y = x\,(M \odot W)^\top / (1-p) + b` with
    :math:`M_{ij} \sim \mathrm{Bernoulli}(1-p)`; test: :math:`y = x W^\top + b`, the exact
    expectation of the training output over masks. One mask per mini-batch by default;
    ``per_sample=True`` draws one per example (memory ``N × out × in``), as in the paper.

    Wan, Zeiler, Zhang, LeCun & Fergus (2013), "Regularization of Neural Networks using
    DropConnect", ICML. (The paper keeps training unscaled and approximates the test-time
    distribution of each unit by a moment-matched Gaussian; the inverted scaling used here
    is the simpler mean approximation, the same one dropout uses.)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        p: float = 0.5,
        per_sample: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        _check_probability(p)
        self.p = p
        self.per_sample = per_sample
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return F.linear(x, self.weight, self.bias)
        if not self.per_sample:
            return F.linear(x, dropout(self.weight, self.p, True, self.generator), self.bias)
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.in_features)
        weights = self.weight.expand(flat.shape[0], -1, -1)
        weights = dropout(weights, self.p, True, self.generator)
        out = torch.einsum("ni,noi->no", flat, weights)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}, per_sample={self.per_sample}"


def drop_path(
    x: torch.Tensor,
    p: float = 0.0,
    training: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Stochastic depth: drop a residual branch for whole examples with probability ``p``.

    For a block :math:`H = \mathrm{id}(x) + b\,f(x)` pass the branch output :math:`f(x)`
    here: each example's branch is multiplied by :math:`b/(1-p)` with
    :math:`b \sim \mathrm{Bernoulli}(1-p)` (one draw per example, shared over all its
    features), so the expectation is :math:`f(x)` and test time uses the whole network
    (``training=False`` returns ``x``).

    Huang, Sun, Liu, Sedra & Weinberger (2016), "Deep Networks with Stochastic Depth", ECCV.
    The paper scales the branch by the survival probability at test time instead; the
    inverted form here is timm's ``DropPath``.
    """
    _check_probability(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    shape = (x.shape[0],) + (1,) * (x.dim() - 1)
    return x * _keep_mask(x, p, generator, shape) * (1.0 / (1.0 - p))


class DropPath(nn.Module):
    """Stochastic depth as a module (:func:`drop_path` with ``training=self.training``)."""

    def __init__(self, p: float = 0.0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_probability(p)
        self.p = p
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def linear_drop_path_rates(num_blocks: int, last: float) -> list[float]:
    r"""Huang et al.'s linear decay rule: block :math:`l` of :math:`L` drops with
    :math:`p_l = \tfrac{l}{L}\,p_L` (early blocks almost always kept, the last one with
    ``last``). "Deep Networks with Stochastic Depth" (2016), Sec. 3.
    """
    _check_probability(last, "last")
    return [last * (l + 1) / num_blocks for l in range(num_blocks)]



class StochasticDepth(nn.Module):
    r"""A residual block :math:`H = x + b\,f(x)/(1-p)` whose branch ``f`` is dropped at random.

    In training, :math:`b \sim \mathrm{Bernoulli}(1-p)` is drawn once per mini-batch
    (``mode="batch"``, Huang et al.'s stochastic depth: a dropped branch is *not computed*, which
    is where its saving of training time comes from) or once per example (``mode="row"``, timm's
    ``DropPath``: every example still runs the branch, so nothing is saved). At test time the
    block is :math:`x + f(x)`. Huang, Sun, Liu, Sedra & Weinberger (2016), "Deep Networks with
    Stochastic Depth", ECCV (they scale by :math:`1-p` at test time; this is the inverted form).

    Args:
        branch: the residual branch :math:`f`; its output has the shape of its input.
        p: probability of dropping the branch.
        mode: ``"batch"`` or ``"row"``.
        generator: optional ``torch.Generator`` for the draws.
    """

    def __init__(
        self, branch: nn.Module, p: float = 0.0, mode: str = "batch",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_probability(p)
        if mode not in ("batch", "row"):
            raise ValueError(f"mode must be 'batch' or 'row', got {mode!r}")
        self.branch, self.p, self.mode, self.generator = branch, p, mode, generator
        self.calls = 0  # branch evaluations, to measure the computation saved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.p > 0 and self.mode == "batch":
            if float(uniform((1,), self.generator, x.device)) < self.p:
                return x  # dropped for the whole batch: the branch is skipped
            self.calls += 1
            return x + self.branch(x) / (1.0 - self.p)
        self.calls += 1
        out = self.branch(x)
        if self.training and self.mode == "row":
            out = drop_path(out, self.p, True, self.generator)
        return x + out

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"

# --------------------------------------------------------------------------- batch norm
def batch_norm(
    x: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Batch normalisation of ``x`` of shape (N, C) or (N, C, \*), per channel C.

    Training normalises with the statistics of the mini-batch (over N and all spatial
    positions; :math:`m` values per channel)

    .. math:: \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \quad
              y = \gamma \hat x + \beta, \quad
              \mu_B = \tfrac1m\textstyle\sum x, \quad \sigma_B^2 = \tfrac1m\sum (x-\mu_B)^2,

    and updates the running estimates in place (PyTorch's convention: the *unbiased*
    variance :math:`\tfrac{m}{m-1}\sigma_B^2` enters the running variance)

    .. math:: \hat\mu \leftarrow (1-\text{momentum})\,\hat\mu + \text{momentum}\,\mu_B, \qquad
              \hat\sigma^2 \leftarrow (1-\text{momentum})\,\hat\sigma^2
              + \text{momentum}\,\tfrac{m}{m-1}\sigma_B^2 .

    Evaluation normalises with the running estimates, a fixed affine map — the
    "marginalise the randomness of the mini-batch" half of the pattern.
    If ``running_mean``/``running_var`` are None, batch statistics are used in both modes.

    Ioffe & Szegedy (2015), "Batch Normalization: Accelerating Deep Network Training by
    Reducing Internal Covariate Shift", ICML.
    """
    if x.dim() < 2:
        raise ValueError(f"batch_norm expects (N, C) or (N, C, *) input, got {tuple(x.shape)}")
    dims = [0, *range(2, x.dim())]
    shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        m = x.numel() // x.shape[1]
        if m < 2:
            raise ValueError("batch_norm in training needs more than one value per channel")
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        if training and running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                running_var.mul_(1 - momentum).add_(momentum * var.detach() * (m / (m - 1)))
    else:
        mean, var = running_mean, running_var
    y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


class BatchNorm(nn.Module):
    """Batch normalisation from scratch, a drop-in for ``nn.BatchNorm1d`` / ``nn.BatchNorm2d``.

    Same parameters and buffers (``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked``) and the same state-dict keys, so weights load either way.
    ``momentum=None`` gives the cumulative average of all batch statistics seen, as in
    PyTorch. Formula: :func:`batch_norm`. Ioffe & Szegedy (2015).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"expected (N, {self.num_features}, *) input, got shape {tuple(x.shape)}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


# --------------------------------------------------------------------------- label smoothing
def label_smoothing(
    y: torch.Tensor, num_classes: int, eps: float = 0.1, dtype: torch.dtype | None = None
) -> torch.Tensor:
    r"""Smoothed targets :math:`q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon / K`.

    The true class gets :math:`1 - \varepsilon + \varepsilon/K = 1 - \tfrac{K-1}{K}\varepsilon`,
    every other class :math:`\varepsilon/K`; rows still sum to 1. Cross-entropy against
    :math:`q` never reaches zero for finite logits, which stops the logit of the true class
    from growing without bound (over-confidence).

    Szegedy, Vanhoucke, Ioffe, Shlens & Wojna (2016), "Rethinking the Inception Architecture
    for Computer Vision", CVPR, Sec. 7.

    Args:
        y: integer labels of shape (N,) (or any shape: the class axis is appended last), or
            soft targets (..., K) in floating point, which are smoothed the same way.
        num_classes: K.
        eps: smoothing :math:`\varepsilon \in [0, 1]`.
        dtype: dtype of the result (default: ``y``'s for soft targets, else torch's default).

    Raises:
        ValueError: unless 0 ≤ eps ≤ 1.
    """
    _check_probability(eps, "eps")
    if y.is_floating_point():
        if y.shape[-1] != num_classes:
            raise ValueError(f"soft targets need a last axis of size {num_classes}")
        target = y.to(dtype or y.dtype)
    else:
        target = one_hot(y, num_classes, dtype=dtype)
    return target * (1.0 - eps) + eps / num_classes


def one_hot(
    y: torch.Tensor, num_classes: int, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """One-hot rows of integer labels ``y`` (class axis last), in ``dtype`` on ``y``'s device."""
    dtype = dtype or torch.get_default_dtype()
    out = torch.zeros(*y.shape, num_classes, dtype=dtype, device=y.device)
    return out.scatter_(-1, y.long().unsqueeze(-1), 1.0)


def smoothed_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, eps: float = 0.0
) -> torch.Tensor:
    r"""Mean cross-entropy between ``softmax(logits)`` and the smoothed target.

    .. math:: \ell_i = -\sum_k q_{ik}\,\log\mathrm{softmax}(z_i)_k, \qquad
              q_i = (1-\varepsilon)\,t_i + \varepsilon / K,

    where :math:`t_i` is the one-hot row of an integer label or the given soft row. For
    integer labels this is :math:`(1-\varepsilon)(-\log p_{i,y_i}) + \varepsilon \cdot
    \tfrac1K\sum_k(-\log p_{ik})`, the value of
    ``F.cross_entropy(logits, target, label_smoothing=eps)`` (soft targets are smoothed the
    same way, also as PyTorch does). The log-softmax is computed as
    :math:`z - \mathrm{logsumexp}(z)`, stable for logits of any size.

    Szegedy et al. (2016), "Rethinking the Inception Architecture for Computer Vision";
    Müller, Kornblith & Hinton (2019), "When Does Label Smoothing Help?", NeurIPS.

    Args:
        logits: (N, K) or (N, K, d1, ...) with classes on axis 1 (or (K,) for one example).
        target: integer labels (N,) / (N, d1, ...), or probabilities with ``logits``' shape.
        eps: label smoothing in [0, 1].
    """
    _check_probability(eps, "eps")
    if logits.dim() == 1:
        logits = logits.unsqueeze(0)
        target = target.unsqueeze(0)
    num_classes = logits.shape[1]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    if target.is_floating_point():
        if target.shape != logits.shape:
            raise ValueError(
                f"soft targets must have the logits' shape {tuple(logits.shape)}, "
                f"got {tuple(target.shape)}"
            )
        q = target.to(log_p.dtype) * (1.0 - eps) + eps / num_classes
        return -(q * log_p).sum(dim=1).mean()
    nll = -log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
    if eps == 0.0:
        return nll.mean()
    uniform_ce = -log_p.mean(dim=1)
    return ((1.0 - eps) * nll + eps * uniform_ce).mean()


# --------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop training when a validation metric has not improved for ``patience`` checks.

    Call :meth:`step` once per epoch with the monitored value; it returns True when training
    should stop. An improvement means beating the best value so far by more than
    ``min_delta`` (lower for ``mode="min"``, higher for ``mode="max"``). ``best`` and
    ``best_step`` record the best value and when it was seen, so the caller can restore the
    weights of that epoch ("always keep the model snapshot that worked best on val").
    Prechelt (1998), "Early Stopping — But When?", in Neural Networks: Tricks of the Trade.

    Args:
        patience: stop after this many checks in a row without improvement (>= 0).
        min_delta: the smallest change that counts as an improvement (>= 0).
        mode: ``"min"`` (losses) or ``"max"`` (accuracies).
        monitor: the name of the metric, for trainers that read it from a history
            (e.g. ``"val_loss"`` or ``"val_acc"``).
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        monitor: str = "val_loss",
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if patience < 0 or min_delta < 0:
            raise ValueError("patience and min_delta must be non-negative")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.monitor = monitor
        self.reset()

    def reset(self) -> None:
        self.best: float = math.inf if self.mode == "min" else -math.inf
        self.best_step: int = -1
        self.num_bad: int = 0
        self.steps: int = 0
        self.should_stop: bool = False

    def is_improvement(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float | torch.Tensor) -> bool:
        """Record one check of the metric; True when training should stop."""
        value = float(value)
        if self.is_improvement(value):
            self.best, self.best_step, self.num_bad = value, self.steps, 0
            self.should_stop = False
        else:
            self.num_bad += 1
            self.should_stop = self.num_bad >= self.patience
        self.steps += 1
        return self.should_stop

    __call__ = step

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"mode={self.mode!r}, monitor={self.monitor!r}, best={self.best}, "
            f"best_step={self.best_step})"
        )
