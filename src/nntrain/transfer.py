"""Transfer learning: reuse a trained network for a new task.

Every function relies only on parameter names (and, for probes, on the ``features``/``head``
split of :mod:`nntrain.models`), so it works for any ``nn.Module``.

Public names
------------
freeze, unfreeze
    Switch ``requires_grad`` off / on for every parameter of a module.
freeze_until
    Freeze everything before a named layer; that layer and the ones after it stay trainable.
count_parameters
    ``(trainable, total)`` numbers of parameters.
param_groups
    Optimiser parameter groups with one learning rate per name prefix (e.g. a ten times lower
    rate for the pretrained layers).
set_batchnorm_eval, BatchNormEval
    Keep BatchNorm layers in eval mode (running statistics fixed) while fine-tuning; the hook
    form re-applies it at the start of every :func:`nntrain.train.fit` epoch.
extract_features
    Run a frozen feature extractor once over a loader: ``(features, labels)``.
LinearProbe
    A frozen feature extractor (always in eval mode) with a new trainable linear head.
new_head
    Replace a model's ``head`` by a fresh ``nn.Linear`` for a new number of classes.
LoRALinear, apply_lora
    Low-rank adaptation: :math:`W x + \\frac{\\alpha}{r} B A x` with :math:`W` frozen and only
    :math:`A, B` trained (Hu et al., 2022).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn

from nntrain.train import Hook, TrainState

__all__ = [
    "BatchNormEval",
    "LinearProbe",
    "LoRALinear",
    "apply_lora",
    "count_parameters",
    "extract_features",
    "freeze",
    "freeze_until",
    "new_head",
    "param_groups",
    "set_batchnorm_eval",
    "unfreeze",
]

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients for every parameter of ``module`` (``requires_grad = False``); returns it.

    Frozen parameters get no ``.grad`` and an optimiser leaves them unchanged. (BatchNorm
    running statistics are buffers, not parameters: see :func:`set_batchnorm_eval`.)
    """
    module.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Make every parameter of ``module`` trainable again; returns it."""
    module.requires_grad_(True)
    return module


def freeze_until(model: nn.Module, layer_name: str) -> list[str]:
    """Freeze every parameter that comes before the layer ``layer_name`` (in registration
    order, i.e. from the input side); ``layer_name`` and everything after it stay trainable.

    ``freeze_until(model, "head")`` is feature extraction; ``freeze_until(model, "features.fc3")``
    fine-tunes the last hidden layer and the head. Returns the names of the frozen parameters.
    Raises ``KeyError`` if no parameter belongs to ``layer_name``.
    """
    names = [name for name, _ in model.named_parameters()]
    prefix = layer_name + "."
    try:
        first = next(i for i, name in enumerate(names) if name.startswith(prefix))
    except StopIteration:
        raise KeyError(f"no parameters under {layer_name!r}; layers with parameters: "
                       f"{sorted({n.rsplit('.', 1)[0] for n in names})}") from None
    frozen = []
    for i, (name, p) in enumerate(model.named_parameters()):
        p.requires_grad_(i >= first)
        if i < first:
            frozen.append(name)
    return frozen


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` numbers of scalar parameters of ``model``."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


def param_groups(
    model: nn.Module, lrs: Mapping[str, float], default_lr: float | None = None
) -> list[dict]:
    """Parameter groups for a ``torch.optim`` optimiser, one learning rate per name prefix.

    Each trainable parameter goes to the longest prefix of ``lrs`` that its name starts with
    (``""`` matches everything), or to a group with ``default_lr``; frozen parameters are left
    out. Fine-tuning typically uses about one tenth of the original rate for the pretrained
    layers and the full rate for the new head, e.g.
    ``param_groups(model, {"features": 1e-4, "head": 1e-3})``. Empty groups are dropped; each
    group carries a ``"name"`` (its prefix). ``ValueError`` if a parameter matches nothing and
    there is no ``default_lr``.
    """
    prefixes = sorted(lrs, key=len, reverse=True)
    groups: dict[str, list[nn.Parameter]] = {p: [] for p in lrs}
    rest: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        match = next((p for p in prefixes if p == "" or name == p or name.startswith(p + ".")),
                     None)
        if match is None:
            if default_lr is None:
                raise ValueError(f"parameter {name!r} matches none of {list(lrs)} "
                                 "and no default_lr is given")
            rest.append(param)
        else:
            groups[match].append(param)
    out = [{"params": ps, "lr": lrs[p], "name": p} for p, ps in groups.items() if ps]
    if rest:
        out.append({"params": rest, "lr": default_lr, "name": "default"})
    return out


def set_batchnorm_eval(model: nn.Module, freeze_affine: bool = False) -> nn.Module:
    """Put every BatchNorm layer of ``model`` in eval mode: normalise with the running
    statistics learned in pretraining and stop updating them (the lectures' "train with
    BatchNorm in test mode" — small fine-tuning batches would give noisy statistics). With
    ``freeze_affine`` the scale :math:`\\gamma` and shift :math:`\\beta` are frozen too.
    ``model.train()`` undoes the mode change; use :class:`BatchNormEval` with ``fit``."""
    for m in model.modules():
        if isinstance(m, _BATCHNORMS):
            m.eval()
            if freeze_affine:
                freeze(m)
    return model


class BatchNormEval(Hook):
    """A :func:`nntrain.train.fit` hook applying :func:`set_batchnorm_eval` at the start of
    every epoch (``fit`` calls ``model.train()`` first)."""

    def __init__(self, freeze_affine: bool = False) -> None:
        self.freeze_affine = freeze_affine

    def on_epoch_start(self, state: TrainState) -> None:
        set_batchnorm_eval(state.model, self.freeze_affine)


@torch.no_grad()
def extract_features(
    extractor: nn.Module, loader: Iterable, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features, labels)`` of every example of ``loader``, computed once in eval mode.

    ``extractor`` maps a batch to (N, D) features — for the models of :mod:`nntrain.models`
    pass ``model.features``. Training a linear classifier on these fixed vectors is "using the
    network as a feature extractor" (Donahue et al., 2014, "DeCAF"; Razavian et al., 2014,
    "CNN Features off-the-shelf"). Returned on the CPU.
    """
    if device is None:
        device = next((p.device for p in extractor.parameters()), torch.device("cpu"))
    was_training = extractor.training
    extractor.eval()
    feats, labels = [], []
    try:
        for batch in loader:
            feats.append(extractor(batch[0].to(device)).flatten(1).float().cpu())
            labels.append(batch[1].cpu())
    finally:
        extractor.train(was_training)
    return torch.cat(feats), torch.cat(labels)


class LinearProbe(nn.Module):
    """Frozen features + a new linear classifier: :math:`z = W\\,\\phi(x) + b`.

    ``features`` (e.g. ``pretrained.features``) is frozen and kept in eval mode whatever
    ``train()`` says, so dropout stays off and BatchNorm statistics stay those of pretraining;
    only ``head`` (``nn.Linear(in_features, num_classes)``) learns. ``in_features`` defaults to
    the ``out_features`` attribute of the source model when ``features`` has one.
    """

    def __init__(self, features: nn.Module, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.features = freeze(features)
        self.head = nn.Linear(in_features, num_classes)

    def train(self, mode: bool = True) -> LinearProbe:
        super().train(mode)
        self.features.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            phi = self.features(x)
        return self.head(phi.flatten(1))


def new_head(model: nn.Module, num_classes: int, generator: torch.Generator | None = None
             ) -> nn.Module:
    """Replace ``model.head`` (an ``nn.Linear``) by a freshly initialised one with
    ``num_classes`` outputs, on the same device and dtype; returns the model."""
    old = getattr(model, "head", None)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"model.head must be an nn.Linear, got {type(old).__name__}")
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                     device=old.weight.device, dtype=old.weight.dtype)
    if generator is not None:  # PyTorch's default init, drawn from the given generator
        bound = 1.0 / math.sqrt(old.in_features)
        with torch.no_grad():
            head.weight.uniform_(-bound, bound, generator=generator)
            if head.bias is not None:
                head.bias.uniform_(-bound, bound, generator=generator)
    model.head = head
    return model


class LoRALinear(nn.Module):
    """Low-rank adaptation of a frozen ``nn.Linear`` (Hu et al., 2022, "LoRA: Low-Rank
    Adaptation of Large Language Models").

    .. math:: h = W_0 x + b_0 + \\frac{\\alpha}{r}\\, B A x,
              \\qquad A \\in \\mathbb{R}^{r\\times d_{in}},\\; B \\in \\mathbb{R}^{d_{out}\\times r}

    :math:`W_0, b_0` are the pretrained weights (frozen); only :math:`A` and :math:`B` train,
    :math:`r(d_{in}+d_{out})` numbers instead of :math:`d_{in}d_{out}`. :math:`B = 0` at
    initialisation, so the wrapped layer computes exactly what the base layer did and training
    starts from the pretrained model; :math:`A` gets the Kaiming-uniform initialisation of
    ``nn.Linear`` (as in Microsoft's ``loralib`` and Hugging Face PEFT). The scale
    :math:`\\alpha/r` keeps the size of the update comparable across ranks.
    :meth:`merged` folds the update into a plain ``nn.Linear`` (no inference cost).
    """

    def __init__(
        self, base: nn.Linear, r: int = 4, alpha: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if r < 1:
            raise ValueError(f"rank r must be >= 1, got {r}")
        self.base = freeze(base)
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, device=w.device,
                                               dtype=w.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, device=w.device,
                                               dtype=w.dtype))
        # kaiming_uniform_(a=sqrt(5)) of nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        bound = 1.0 / math.sqrt(base.in_features)
        with torch.no_grad():
            self.lora_A.uniform_(-bound, bound, generator=generator)

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The learned update :math:`\\Delta W = \\frac{\\alpha}{r} B A` (rank <= r)."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * ((x @ self.lora_A.t()) @ self.lora_B.t())

    @torch.no_grad()
    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with weight :math:`W_0 + \\frac{\\alpha}{r}BA` (same outputs)."""
        out = nn.Linear(self.in_features, self.out_features, bias=self.base.bias is not None,
                        device=self.base.weight.device, dtype=self.base.weight.dtype)
        out.weight.copy_(self.base.weight + self.delta_weight())
        if self.base.bias is not None:
            out.bias.copy_(self.base.bias)
        return out

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}"


def _matcher(target: str | Sequence[str] | Callable[[str, nn.Module], bool] | None):
    if target is None:
        return lambda name, module: True
    if callable(target):
        return target
    names = (target,) if isinstance(target, str) else tuple(target)
    return lambda name, module: any(name == t or name.startswith(t + ".") for t in names)


def apply_lora(
    model: nn.Module,
    r: int = 4,
    alpha: float = 1.0,
    target: str | Sequence[str] | Callable[[str, nn.Module], bool] | None = None,
    trainable: Sequence[str] = (),
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Wrap ``nn.Linear`` layers of ``model`` in :class:`LoRALinear` (in place) and freeze the rest.

    ``target`` selects the layers: None for every ``nn.Linear``, a name or names (a layer and
    everything under it, e.g. ``"features"``), or a predicate ``(name, module) -> bool``.
    Afterwards only the :math:`A, B` matrices are trainable — plus the modules named in
    ``trainable`` (e.g. ``("head",)`` for a new classification head, which has to be trained
    in full). Returns ``model``; ``ValueError`` if nothing matched.
    """
    match = _matcher(target)
    chosen = [name for name, m in model.named_modules()
              if isinstance(m, nn.Linear) and name and match(name, m)]
    chosen = [n for n in chosen if not any(n == t or n.startswith(t + ".") for t in trainable)]
    if not chosen:
        raise ValueError("apply_lora: no nn.Linear layer matched the target")
    freeze(model)
    for name in chosen:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, generator))
    for name in trainable:
        unfreeze(model.get_submodule(name))
    return model
