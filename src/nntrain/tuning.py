"""Hyperparameter search and the sanity checks of the tuning recipe.

The lectures' recipe: (1) check the initial loss, (2) overfit a small sample,
(3) find a learning rate that makes the loss go down, (4) coarse grid,
(5) refine, (6) read the learning curves, (7) repeat -- while watching the
update/weight ratio.  This module has one helper per step; the searches
follow Bergstra & Bengio, 2012, "Random Search for Hyper-Parameter
Optimization".

Public names: log_uniform, Uniform, LogUniform, Choice, grid_points,
random_points, Trial, grid_search, random_search, best_trial,
expected_initial_loss, InitialLossCheck, initial_loss_check, OverfitResult,
overfit_small_sample, LRRangeResult, lr_range_test, update_ratio,
UpdateRatioMonitor, diagnose_learning_curve, CURVE_ADVICE.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = [
    "log_uniform",
    "Uniform",
    "LogUniform",
    "Choice",
    "grid_points",
    "random_points",
    "Trial",
    "grid_search",
    "random_search",
    "best_trial",
    "expected_initial_loss",
    "InitialLossCheck",
    "initial_loss_check",
    "OverfitResult",
    "overfit_small_sample",
    "LRRangeResult",
    "lr_range_test",
    "update_ratio",
    "UpdateRatioMonitor",
    "diagnose_learning_curve",
    "CURVE_ADVICE",
]

Batch = tuple[torch.Tensor, torch.Tensor]
OptimizerFactory = Callable[[Iterable[nn.Parameter], float], torch.optim.Optimizer]


# --------------------------------------------------------------------------- sampling


def log_uniform(
    low: float,
    high: float,
    size: int | Sequence[int] = (),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Sample uniformly on a log scale: :math:`x = \exp(u)`, :math:`u \sim U[\log a, \log b)`.

    Every decade between ``low`` and ``high`` gets the same share of samples,
    the right prior for scale parameters such as the learning rate or the
    weight decay (Bergstra & Bengio, 2012, "Random Search for Hyper-Parameter
    Optimization").  Values lie in ``[low, high]``.
    """
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got low={low}, high={high}")
    shape = (size,) if isinstance(size, int) else tuple(size)
    u = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    x = torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    return x.clamp(low, high)  # exp(log(high)) can round one ulp above high


@dataclass(frozen=True)
class Uniform:
    """A hyperparameter sampled uniformly in ``[low, high)``."""

    low: float
    high: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> list[float]:
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        return (self.low + u * (self.high - self.low)).tolist()


@dataclass(frozen=True)
class LogUniform:
    """A hyperparameter sampled log-uniformly in ``[low, high]`` (see :func:`log_uniform`)."""

    low: float
    high: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> list[float]:
        return log_uniform(self.low, self.high, n, generator=generator).tolist()


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter: one of ``options``, each equally likely."""

    options: Sequence[Any]

    def sample(self, n: int, generator: torch.Generator | None = None) -> list[Any]:
        idx = torch.randint(len(self.options), (n,), generator=generator)
        return [self.options[i] for i in idx.tolist()]


def grid_points(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the listed values (the Cartesian product), first key slowest."""
    names = list(space)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*space.values())]


def random_points(
    space: Mapping[str, Uniform | LogUniform | Choice],
    n: int,
    generator: torch.Generator | None = None,
) -> list[dict[str, Any]]:
    """``n`` independent draws of every hyperparameter from its distribution.

    With the same budget as a grid, each hyperparameter gets ``n`` distinct
    values instead of ``n ** (1/d)`` -- why random search finds the important
    dimension's good region more often (Bergstra & Bengio, 2012).
    """
    columns = {name: dist.sample(n, generator) for name, dist in space.items()}
    return [{name: columns[name][i] for name in space} for i in range(n)]


@dataclass
class Trial:
    """One evaluated configuration: its hyperparameters and the objective's value."""

    params: dict[str, Any]
    score: float


def _evaluate(objective: Callable[..., float], points: list[dict[str, Any]]) -> list[Trial]:
    return [Trial(params=p, score=float(objective(**p))) for p in points]


def grid_search(
    objective: Callable[..., float], space: Mapping[str, Sequence[Any]]
) -> list[Trial]:
    """Evaluate ``objective(**params)`` at every point of the grid, in :func:`grid_points` order."""
    return _evaluate(objective, grid_points(space))


def random_search(
    objective: Callable[..., float],
    space: Mapping[str, Uniform | LogUniform | Choice],
    n_trials: int,
    generator: torch.Generator | None = None,
) -> list[Trial]:
    """Evaluate ``objective(**params)`` at ``n_trials`` points from :func:`random_points`."""
    return _evaluate(objective, random_points(space, n_trials, generator))


def best_trial(trials: Sequence[Trial], mode: str = "min") -> Trial:
    """The trial with the lowest (``mode="min"``) or highest (``"max"``) finite score."""
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    finite = [t for t in trials if math.isfinite(t.score)]
    if not finite:
        raise ValueError("no trial has a finite score")
    pick = min if mode == "min" else max
    return pick(finite, key=lambda t: t.score)


# --------------------------------------------------------------------------- sanity checks


def expected_initial_loss(num_classes: int) -> float:
    r"""Cross-entropy of a classifier that is still guessing: :math:`\log C`.

    With small random weights the logits are nearly equal, the softmax is
    close to uniform :math:`1/C`, and the loss is :math:`-\log(1/C) = \log C`
    (2.303 for 10 classes).  Step 1 of the recipe: a first loss far from this
    points to a bug or a bad initialisation.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    return math.log(num_classes)


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _as_batches(data: Batch | Iterable[Batch], max_batches: int | None) -> list[Batch]:
    """A pair ``(x, y)`` of tensors is one batch; anything else is iterated (a DataLoader)."""
    if isinstance(data, tuple | list) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return [(data[0], data[1])]
    batches = []
    for batch in data:
        batches.append((batch[0], batch[1]))
        if max_batches is not None and len(batches) >= max_batches:
            break
    return batches


@dataclass
class InitialLossCheck:
    """Result of :func:`initial_loss_check`."""

    loss: float
    expected: float
    ok: bool


@torch.no_grad()
def initial_loss_check(
    model: nn.Module,
    data: Batch | Iterable[Batch],
    num_classes: int,
    *,
    rtol: float = 0.1,
    max_batches: int | None = 4,
) -> InitialLossCheck:
    r"""Compare the untrained model's mean cross-entropy with :math:`\log C`.

    Runs the model in eval mode (no dropout noise) on up to ``max_batches``
    batches, with no regulariser in the loss, and reports ``ok`` when
    :math:`|L - \log C| \le \text{rtol} \cdot \log C`.
    """
    was_training = model.training
    model.eval()
    device = _model_device(model)
    total, count = 0.0, 0
    for x, y in _as_batches(data, max_batches):
        logits = model(x.to(device))
        total += nn.functional.cross_entropy(logits, y.to(device), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    loss = total / count
    expected = expected_initial_loss(num_classes)
    ok = abs(loss - expected) <= rtol * expected
    return InitialLossCheck(loss=loss, expected=expected, ok=ok)


@dataclass
class OverfitResult:
    """Result of :func:`overfit_small_sample`: per-epoch loss and accuracy on the sample."""

    losses: list[float]
    accuracies: list[float]
    success: bool


def _sgd_momentum(params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def overfit_small_sample(
    model: nn.Module,
    data: Batch | Iterable[Batch],
    *,
    num_batches: int = 5,
    epochs: int = 200,
    lr: float = 0.1,
    optimizer: OptimizerFactory = _sgd_momentum,
    target_accuracy: float = 1.0,
) -> OverfitResult:
    """Step 2 of the recipe: train on a few batches until they are memorised.

    Takes the first ``num_batches`` batches of ``data``, trains on them (no
    regularisation beyond what the model has) for at most ``epochs`` passes,
    and stops as soon as the training accuracy reaches ``target_accuracy``.  A
    model that cannot drive the loss of ~5-10 batches towards zero has a bug,
    a learning rate that is too low, or a bad initialisation.  ``model`` is
    trained in place.
    """
    device = _model_device(model)
    batches = [(x.to(device), y.to(device)) for x, y in _as_batches(data, num_batches)]
    opt = optimizer(model.parameters(), lr)
    losses: list[float] = []
    accuracies: list[float] = []
    model.train()
    for _ in range(epochs):
        total, correct, count = 0.0, 0, 0
        for x, y in batches:
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * y.numel()
            correct += (logits.argmax(-1) == y).sum().item()
            count += y.numel()
        losses.append(total / count)
        accuracies.append(correct / count)
        if accuracies[-1] >= target_accuracy:
            break
    return OverfitResult(losses, accuracies, success=accuracies[-1] >= target_accuracy)


@dataclass
class LRRangeResult:
    """Result of :func:`lr_range_test`: the rates tried, the (smoothed) losses, a suggestion."""

    lrs: list[float]
    losses: list[float]
    suggested_lr: float


def lr_range_test(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    min_lr: float = 1e-5,
    max_lr: float = 10.0,
    num_steps: int = 100,
    optimizer: OptimizerFactory = _sgd_momentum,
    smoothing: float = 0.8,
    diverge_factor: float = 4.0,
) -> LRRangeResult:
    r"""Step 3 of the recipe: sweep the learning rate up exponentially in one short run.

    Step ``k`` uses :math:`\alpha_k = \alpha_{min}(\alpha_{max}/\alpha_{min})^{k/(K-1)}`
    and records an exponential moving average of the loss (bias-corrected).
    The sweep stops once the loss exceeds ``diverge_factor`` times its best.
    The suggestion is the rate at the lowest smoothed loss divided by 10 -- a
    rate that still makes fast progress, safely below the point of
    divergence.  Smith, 2017, "Cyclical Learning Rates for Training Neural
    Networks".  The model's weights are restored afterwards.
    """
    if num_steps < 2:
        raise ValueError("num_steps must be >= 2")
    saved = copy.deepcopy(model.state_dict())
    device = _model_device(model)
    opt = optimizer(model.parameters(), min_lr)
    ratio = max_lr / min_lr
    lrs: list[float] = []
    losses: list[float] = []
    avg, best = 0.0, math.inf
    model.train()

    def batches():
        while True:  # cycle through the loader as often as needed
            yield from loader

    for k, (x, y) in zip(range(num_steps), batches(), strict=False):
        lr = min_lr * ratio ** (k / (num_steps - 1))
        for group in opt.param_groups:
            group["lr"] = lr
        loss = nn.functional.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        avg = smoothing * avg + (1 - smoothing) * loss.item()
        smoothed = avg / (1 - smoothing ** (k + 1))
        lrs.append(lr)
        losses.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > diverge_factor * best:
            break
        best = min(best, smoothed)
    model.load_state_dict(saved)
    finite = [(loss, lr) for loss, lr in zip(losses, lrs, strict=True) if math.isfinite(loss)]
    suggested = min(finite)[1] / 10 if finite else min_lr
    return LRRangeResult(lrs=lrs, losses=losses, suggested_lr=suggested)


# --------------------------------------------------------------------------- update ratio


def update_ratio(before: torch.Tensor, after: torch.Tensor) -> float:
    r"""Relative size of one update: :math:`\|w_{t+1} - w_t\| / \|w_t\|`.

    A healthy value is around :math:`10^{-3}` (Karpathy, CS231n notes): much
    larger and the rate is too high, much smaller and it is too low.  Returns
    ``inf`` when ``before`` is all zeros and the update is not.
    """
    delta = torch.linalg.vector_norm((after - before).double()).item()
    norm = torch.linalg.vector_norm(before.double()).item()
    if norm == 0.0:
        return 0.0 if delta == 0.0 else math.inf
    return delta / norm


class UpdateRatioMonitor:
    """Records :func:`update_ratio` of every parameter at every optimizer step.

    Attach it to an optimizer (``monitor.attach(opt)``) and it snapshots the
    weights before each ``opt.step()`` and records the ratios after it, using
    the optimizer's step hooks, so it works with any training loop.  Or call
    :meth:`snapshot` and :meth:`record` yourself around an update.
    ``history[name]`` is the list of ratios of parameter ``name``.
    """

    def __init__(self, model: nn.Module, only_weights: bool = False) -> None:
        self.params = {
            name: p
            for name, p in model.named_parameters()
            if p.requires_grad and (not only_weights or p.dim() > 1)
        }
        self.history: dict[str, list[float]] = {name: [] for name in self.params}
        self._before: dict[str, torch.Tensor] = {}
        self._handles: list[Any] = []

    def snapshot(self) -> None:
        """Remember the current weights (call just before the update)."""
        self._before = {name: p.detach().clone() for name, p in self.params.items()}

    def record(self) -> dict[str, float]:
        """Append and return the ratios of the update since :meth:`snapshot`."""
        if not self._before:
            raise RuntimeError("call snapshot() before record()")
        ratios = {}
        for name, p in self.params.items():
            ratios[name] = update_ratio(self._before[name], p.detach())
            self.history[name].append(ratios[name])
        self._before = {}
        return ratios

    def attach(self, optimizer: torch.optim.Optimizer) -> UpdateRatioMonitor:
        """Snapshot before and record after every ``optimizer.step()``."""
        self._handles.append(optimizer.register_step_pre_hook(lambda *_: self.snapshot()))
        self._handles.append(optimizer.register_step_post_hook(lambda *_: self.record()))
        return self

    def detach(self) -> None:
        """Stop recording (remove the hooks)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


# --------------------------------------------------------------------------- learning curves

CURVE_ADVICE: dict[str, str] = {
    "diverged": "loss became inf/NaN or grew: lower the learning rate, check the initialisation",
    "bad_init": "loss flat for a long time, then drops: bad initialisation is a prime suspect",
    "plateau": "loss stopped improving at a constant rate: try learning-rate decay",
    "decayed_too_early": "loss was still falling when the rate dropped: decay later",
    "overfitting": "validation gets worse while training improves: regularise more, get more data",
    "underfitting": "still improving with no large train/val gap: train longer, bigger model, "
    "maybe a higher rate",
    "healthy": "nothing to fix",
}
"""What each label of :func:`diagnose_learning_curve` means and what to try (lecture advice)."""


def _series(history: Any, key: str) -> list[float] | None:
    values = history.get(key) if isinstance(history, Mapping) else getattr(history, key, None)
    if values is None or len(values) == 0:
        return None
    return [float(v) for v in values]


@dataclass
class _Curve:
    loss: list[float]
    val_loss: list[float] | None = None
    train_acc: list[float] | None = None
    val_acc: list[float] | None = None
    lr: list[float] | None = None
    tail: int = field(init=False)

    def __post_init__(self) -> None:
        self.tail = max(3, len(self.loss) // 3)

    def tail_progress(self) -> float:
        """Share of the whole decrease of the loss made during the last third of training:
        how far the tail's best value improved on the best value before it (best values, so
        that epoch-to-epoch noise on a flat curve does not count as progress)."""
        total = self.loss[0] - min(self.loss)
        if total <= 0:
            return 0.0
        return max(0.0, min(self.loss[: -self.tail]) - min(self.loss[-self.tail :])) / total


def diagnose_learning_curve(
    history: Any,
    *,
    flat_start: float = 0.2,
    overfit_rise: float = 0.1,
    overfit_gap: float = 0.1,
    flat_tail: float = 0.05,
    improving_tail: float = 0.1,
    plateau_level: float = 0.1,
    explode_factor: float = 10.0,
) -> str:
    """Name what a learning curve shows, following the lectures' gallery.

    ``history`` is a mapping or an object with per-epoch (or per-evaluation)
    sequences ``train_loss`` (required) and optionally ``val_loss``,
    ``train_acc``, ``val_acc`` and ``lr`` (e.g. ``nntrain.train.History``).
    The first rule that matches decides (``L`` the training loss, ``n`` its
    length, "tail" the last third):

    1. ``"diverged"``: ``L`` has inf/NaN or ends above its start, or the per-step loss
       ``step_loss`` (when recorded) is non-finite or rose above ``explode_factor`` times its
       first value (an explosion inside the first epoch that the epoch means hide).
    2. ``"bad_init"``: ``L`` takes more than ``flat_start * n`` epochs to make
       10% of its total decrease (flat, then a late drop).
    3. ``"overfitting"``: the validation loss turned up and stayed up — even
       its *lowest* value during the tail is ``overfit_rise`` (relative) above
       its lowest value before the tail — while the training loss kept falling
       past the epoch of the validation minimum; or the final train-minus-val
       accuracy gap exceeds ``overfit_gap``. (Comparing minima, not the last
       value with the minimum, keeps a flat but noisy validation loss from
       counting as a rise.)
    4. ``"decayed_too_early"``: the rate dropped by at least 2x in one step
       after a stretch at a constant rate, while ``L`` was still falling, and
       ``L`` fell more slowly afterwards than before.
    5. ``"plateau"``: the rate was never decayed, the tail made less than
       ``flat_tail`` of the total decrease, and ``L`` is still above
       ``plateau_level`` times its start.
    6. ``"underfitting"``: the tail still made more than ``improving_tail``
       of the total decrease (no large gap, or rule 3 would have fired).

    The progress of the tail is the amount by which its lowest ``L`` improves on the
    lowest ``L`` before it, as a share of the total decrease.
    7. ``"healthy"`` otherwise.

    :data:`CURVE_ADVICE` maps each label to what to try.
    """
    loss = _series(history, "train_loss")
    if loss is None or len(loss) < 4:
        raise ValueError("need a train_loss sequence of at least 4 values")
    c = _Curve(
        loss,
        _series(history, "val_loss"),
        _series(history, "train_acc"),
        _series(history, "val_acc"),
        _series(history, "lr"),
    )
    n = len(loss)
    if not all(math.isfinite(v) for v in loss) or loss[-1] > loss[0]:
        return "diverged"
    steps = _series(history, "step_loss")
    if steps is not None and (not all(math.isfinite(v) for v in steps)
                              or max(steps) > explode_factor * steps[0]):
        return "diverged"

    total = loss[0] - min(loss)
    first_progress = next(i for i, v in enumerate(loss) if loss[0] - v >= 0.1 * total)
    if total > 0 and first_progress > max(1, flat_start * n):
        return "bad_init"

    if c.val_loss is not None and len(c.val_loss) > c.tail:
        before, tail = c.val_loss[: -c.tail], c.val_loss[-c.tail :]
        best = min(range(len(before)), key=before.__getitem__)
        rose = min(tail) > (1 + overfit_rise) * before[best]
        if rose and best < len(loss) and loss[-1] < loss[best]:
            return "overfitting"
    accuracies = c.train_acc is not None and c.val_acc is not None
    if accuracies and c.train_acc[-1] - c.val_acc[-1] > overfit_gap:
        return "overfitting"

    if c.lr is not None and _decayed_too_early(loss, c.lr):
        return "decayed_too_early"

    never_decayed = c.lr is None or c.lr[-1] >= 0.9 * max(c.lr)
    progress = c.tail_progress()
    if never_decayed and progress < flat_tail and loss[-1] > plateau_level * loss[0]:
        return "plateau"
    if progress > improving_tail:
        return "underfitting"
    return "healthy"


def _decayed_too_early(loss: list[float], lr: list[float]) -> bool:
    """Rule 4 of :func:`diagnose_learning_curve`."""
    n = len(loss)
    w = max(2, n // 10)
    for d in range(w, n - w):
        step_decay = lr[d] <= 0.5 * lr[d - 1]
        constant_before = min(lr[d - w : d]) >= 0.9 * max(lr[d - w : d])
        if step_decay and constant_before:
            slope_before = (loss[d - w] - loss[d - 1]) / (w - 1)
            slope_after = (loss[d - 1] - loss[d - 1 + w]) / w
            still_falling = slope_before > 0.02 * loss[d - 1]
            return still_falling and slope_after < slope_before
    return False
