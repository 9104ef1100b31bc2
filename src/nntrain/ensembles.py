"""Model ensembles: averaging predictions, snapshot ensembles, and averaging the weights (EMA).

Public names
------------
average_probabilities
    Mean of the softmax outputs of several models on a batch (then take the arg-max).
ensemble_predict_proba
    The same over a whole loader.
evaluate_ensemble
    Negative log-likelihood and accuracy of the averaged probabilities on a loader.
EMA
    Exponential moving average (or, with ``decay=None``, the plain Polyak average) of a model's
    weights; matches ``torch.optim.swa_utils.AveragedModel`` with ``get_ema_multi_avg_fn``.
SnapshotCollector
    A :func:`nntrain.train.fit` hook that saves the weights at the end of every learning-rate
    cycle, and the cyclic cosine schedule that goes with it.
fit_snapshot_ensemble
    Train one model with a cyclic schedule and return the snapshots as an ensemble.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from nntrain.train import Hook, TrainState, fit

__all__ = [
    "EMA",
    "SnapshotCollector",
    "average_probabilities",
    "ensemble_predict_proba",
    "evaluate_ensemble",
    "fit_snapshot_ensemble",
]


@torch.no_grad()
def average_probabilities(
    models: Sequence[nn.Module], x: torch.Tensor, weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Ensemble prediction :math:`\\bar p(y\\mid x) = \\sum_m w_m\\, \\mathrm{softmax}(f_m(x))`.

    The models run in eval mode (their previous mode is restored); ``weights`` default to
    :math:`1/M`. Averaging *probabilities*, not logits or labels, is the classical recipe
    (e.g. Lakshminarayanan et al., 2017, "Simple and Scalable Predictive Uncertainty Estimation
    using Deep Ensembles"); the prediction is :math:`\\arg\\max_c \\bar p_c`. Returns (N, C) in
    float32 (or the input's dtype if it is float64), on ``x``'s device.
    """
    if len(models) == 0:
        raise ValueError("need at least one model")
    if weights is None:
        weights = [1.0 / len(models)] * len(models)
    if len(weights) != len(models):
        raise ValueError(f"{len(weights)} weights for {len(models)} models")
    total = None
    for model, w in zip(models, weights, strict=True):
        was_training = model.training
        model.eval()
        try:
            p = torch.softmax(model(x).to(torch.promote_types(x.dtype, torch.float32)), dim=-1)
        finally:
            model.train(was_training)
        total = w * p if total is None else total + w * p
    return total


@torch.no_grad()
def ensemble_predict_proba(
    models: Sequence[nn.Module], loader: Iterable, device: torch.device | str | None = None
) -> torch.Tensor:
    """:func:`average_probabilities` over every batch of ``loader``, as a CPU tensor (N, C)."""
    device = torch.device(device) if device is not None else next(models[0].parameters()).device
    return torch.cat([average_probabilities(models, batch[0].to(device)).cpu()
                      for batch in loader])


@torch.no_grad()
def evaluate_ensemble(
    models: Sequence[nn.Module], loader: Iterable, device: torch.device | str | None = None
) -> tuple[float, float]:
    """``(NLL, accuracy)`` of the averaged probabilities on ``loader``.

    :math:`\\mathrm{NLL} = -\\frac1N \\sum_i \\log \\bar p(y_i \\mid x_i)`, which for one model
    is its cross-entropy, so the numbers compare with :func:`nntrain.train.evaluate`.
    """
    probs = ensemble_predict_proba(models, loader, device)
    labels = torch.cat([batch[1] for batch in loader]).cpu()
    nll = -torch.log(probs.gather(1, labels[:, None]).clamp_min(1e-12)).mean()
    acc = (probs.argmax(dim=1) == labels).float().mean()
    return float(nll), float(acc)


class EMA(nn.Module):
    """A running average of a model's weights, used in place of the model at test time.

    With ``decay`` :math:`\\beta` (exponential moving average)

    .. math:: \\bar\\theta_0 = \\theta_0, \\qquad
              \\bar\\theta_{t} = \\beta\\,\\bar\\theta_{t-1} + (1-\\beta)\\,\\theta_{t},

    which remembers roughly the last :math:`1/(1-\\beta)` steps; with ``decay=None`` the plain
    average of all iterates :math:`\\bar\\theta_t = \\frac1{t+1}\\sum_{s\\le t} \\theta_s`
    (Polyak & Juditsky, 1992, "Acceleration of Stochastic Approximation by Averaging"; the
    averaging of stochastic weight averaging, Izmailov et al., 2018). ``update(model)`` after
    every optimiser step; the first call copies the weights. This is exactly
    ``torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay),
    use_buffers=use_buffers)`` (and its default average for ``decay=None``).

    Buffers (BatchNorm running statistics): with ``use_buffers=False`` they are copied from the
    model at every update (as ``AveragedModel`` does); with ``True`` floating-point buffers are
    averaged like the weights, while integer buffers (``num_batches_tracked``) are copied — an
    average of a counter means nothing (``AveragedModel`` truncates one).

    ``warmup=True`` uses :math:`\\beta_t = \\min(\\beta, \\frac{1+t}{10+t})` so that early
    averages are not dominated by the random initial weights (the warm-up of TensorFlow's
    ``ExponentialMovingAverage`` ``num_updates`` and timm's ``ModelEmaV2``).
    """

    def __init__(
        self,
        model: nn.Module,
        decay: float | None = 0.999,
        use_buffers: bool = False,
        warmup: bool = False,
    ) -> None:
        super().__init__()
        if decay is not None and not 0.0 <= decay <= 1.0:
            raise ValueError(f"decay must be in [0, 1], got {decay}")
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)
        self.decay = decay
        self.use_buffers = use_buffers
        self.warmup = warmup
        self.register_buffer("n_averaged", torch.tensor(0, dtype=torch.long))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def current_decay(self) -> float:
        """The weight :math:`\\beta_t` of the old average in the next update."""
        n = int(self.n_averaged)
        if self.decay is None:
            return n / (n + 1)
        if self.warmup:
            return min(self.decay, (1 + n) / (10 + n))
        return self.decay

    def _pairs(self, model: nn.Module):
        own = list(self.module.parameters())
        theirs = list(model.parameters())
        if self.use_buffers:
            own += list(self.module.buffers())
            theirs += list(model.buffers())
        if len(own) != len(theirs):
            raise ValueError("the model does not have the structure of the averaged model")
        return zip(own, theirs, strict=True)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights of ``model`` into the average."""
        first = int(self.n_averaged) == 0
        beta = self.current_decay()
        for avg, new in self._pairs(model):
            new = new.detach().to(avg.device)
            if first or not avg.is_floating_point():
                avg.copy_(new)
            else:
                avg.lerp_(new.to(avg.dtype), 1.0 - beta)
        if not self.use_buffers:
            for avg, new in zip(self.module.buffers(), model.buffers(), strict=True):
                avg.copy_(new.detach().to(avg.device))
        self.n_averaged += 1

    #: The name ``AveragedModel`` uses.
    update_parameters = update


class SnapshotCollector(Hook):
    """Save the weights at the end of every learning-rate cycle (a :func:`nntrain.train.fit` hook).

    Snapshot ensembles (Huang et al., 2017, "Snapshot Ensembles: Train 1, Get M for Free") train
    one network with a cyclic cosine schedule (SGDR, Loshchilov & Hutter, 2017): within each
    cycle of :math:`T` steps the rate anneals to a minimum, the model settles into a local
    minimum, its weights are saved, and the restart to a high rate kicks it towards another
    one. The :math:`M` snapshots, averaged like independent models, cost one training run.

    Use :meth:`schedule` as ``fit(..., scheduler=...)`` and this object in ``hooks``; after
    training, :meth:`models` rebuilds the snapshots.
    """

    def __init__(self, cycle_steps: int, keep_last: int | None = None) -> None:
        if cycle_steps < 1:
            raise ValueError(f"cycle_steps must be >= 1, got {cycle_steps}")
        self.cycle_steps = cycle_steps
        self.keep_last = keep_last
        self.snapshots: list[dict[str, torch.Tensor]] = []
        self.snapshot_steps: list[int] = []

    def schedule(self, base_lr: float, min_lr: float = 0.0) -> Callable[[int], float]:
        """The cyclic cosine schedule
        :math:`\\alpha_t = \\alpha_{min} + \\frac12(\\alpha_0-\\alpha_{min})
        (1 + \\cos(\\pi\\,(t \\bmod T)/T))`, i.e. :func:`nntrain.schedules.cosine_restarts_lr`
        with :math:`T_0 = T`."""
        from nntrain.schedules import cosine_restarts_lr

        def lr(t: int) -> float:
            return cosine_restarts_lr(t, base_lr, self.cycle_steps, 1, min_lr)

        return lr

    def on_step_end(self, state: TrainState) -> None:
        if (state.step + 1) % self.cycle_steps == 0:
            self.snapshots.append({k: v.detach().to("cpu", copy=True)
                                   for k, v in state.model.state_dict().items()})
            self.snapshot_steps.append(state.step + 1)
            if self.keep_last is not None and len(self.snapshots) > self.keep_last:
                self.snapshots.pop(0)
                self.snapshot_steps.pop(0)

    def models(self, template: nn.Module) -> list[nn.Module]:
        """One copy of ``template`` per snapshot, loaded with its weights, in eval mode."""
        out = []
        for snapshot in self.snapshots:
            model = copy.deepcopy(template)
            model.load_state_dict(snapshot)
            out.append(model.eval())
        return out


def fit_snapshot_ensemble(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    cycles: int,
    epochs_per_cycle: int,
    optimizer: torch.optim.Optimizer | Callable[..., torch.optim.Optimizer],
    base_lr: float,
    min_lr: float = 0.0,
    hooks: Sequence[Any] = (),
    **fit_kwargs: Any,
):
    """Train ``model`` for ``cycles`` × ``epochs_per_cycle`` epochs with the cyclic cosine
    schedule of :class:`SnapshotCollector`, saving a snapshot at the end of every cycle.

    Returns ``(snapshots, history)``: the list of ``cycles`` models and the :func:`fit` history.
    ``keep_best`` is off (the last weights are the last snapshot); other keyword arguments go to
    :func:`nntrain.train.fit`.
    """
    try:
        steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
    except TypeError as err:
        raise TypeError("fit_snapshot_ensemble needs a train_loader with a length") from err
    collector = SnapshotCollector(epochs_per_cycle * steps_per_epoch)
    fit_kwargs.setdefault("keep_best", False)
    history = fit(model, train_loader, val_loader, epochs=cycles * epochs_per_cycle,
                  optimizer=optimizer, scheduler=collector.schedule(base_lr, min_lr),
                  hooks=(*hooks, collector), **fit_kwargs)
    if len(collector.snapshots) != cycles:
        raise RuntimeError(
            f"expected {cycles} snapshots, got {len(collector.snapshots)} (training stopped early?)"
        )
    return collector.models(model), history

