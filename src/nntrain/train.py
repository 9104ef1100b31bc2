"""A compact training loop with the tricks of the course wired in.

Public names
------------
set_seed
    Seed Python, NumPy and PyTorch (CPU and CUDA) so that a run can be repeated exactly.
get_device
    ``"auto"`` picks CUDA when available, else the CPU.
fit
    Train a model for some epochs with optional per-step schedule, gradient clipping, EMA of the
    weights, early stopping, keeping the best checkpoint, mixed precision, a batch transform
    (augmentation, mixup) and user hooks; returns a :class:`History`.
evaluate
    Mean cross-entropy and accuracy of a model on a loader.
predict_proba
    Softmax probabilities of a model on a loader, (N, C).
History
    Per-epoch ``train_loss, train_acc, val_loss, val_acc, lr`` and per-step ``step_loss, step_lr``.
Hook, TrainState
    The hook protocol of :func:`fit` and the state its methods receive.

Each epoch starts with ``model.train()`` and then ``hooks.on_epoch_start(state)`` (where a hook
may put some modules back in eval mode, e.g. BatchNorm when fine-tuning); it ends with the
validation pass and ``hooks.on_epoch_end(state)``. One optimisation step runs, in this order::

    lr_t = schedule(t)                      # per-step schedule function, if given
    x, y = transform(x, y)                  # batch transform (augmentation / mixup), if given
    loss = loss_fn(model(x), y)             # inside autocast when amp
    loss.backward()                         # scaled by the GradScaler when amp (fp16)
    hooks.after_backward(state)             # gradients are unscaled here
    clip_grad_norm_(params, clip_norm)      # if clip_norm
    optimizer.step()
    torch_scheduler.step()                  # if a torch LR scheduler was given
    ema.update(model)                       # if ema
    hooks.on_step_end(state)
"""

from __future__ import annotations

import math
import random
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

__all__ = [
    "History",
    "Hook",
    "TrainState",
    "evaluate",
    "fit",
    "get_device",
    "predict_proba",
    "set_seed",
]


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed every random number generator a training run touches.

    Seeds Python's ``random``, NumPy's global generator and PyTorch's CPU and CUDA generators
    (``torch.manual_seed`` seeds all devices). With ``deterministic=True`` PyTorch is also asked
    to use deterministic kernels (``torch.use_deterministic_algorithms``, cuDNN without
    benchmarking), which some CUDA operations need for bit-identical reruns.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the legacy global stream is what libraries use)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def get_device(preference: str | torch.device = "auto") -> torch.device:
    """The device to train on: ``"auto"`` gives CUDA when available, else CPU.

    ``"cuda"`` (or ``"cuda:1"``…) raises ``RuntimeError`` when CUDA is not available; any other
    value is passed to ``torch.device``.
    """
    if isinstance(preference, torch.device):
        preference = str(preference)
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {preference!r} requested but CUDA is not available")
    return device


@dataclass
class History:
    """What :func:`fit` measured.

    Per epoch: ``train_loss`` and ``train_acc`` (running means over the epoch's batches, in
    training mode), ``val_loss`` and ``val_acc`` (after the epoch, in eval mode; empty without a
    validation loader), ``ema_val_loss``/``ema_val_acc`` (the EMA model, when ``ema`` is given),
    ``lr`` (learning rate of the first parameter group at the end of the epoch) and
    ``epoch_time`` (seconds). Per optimiser step: ``step_loss``, ``step_lr`` and, when clipping,
    ``step_grad_norm`` (the norm before clipping). ``best_epoch`` is the 0-based epoch whose
    weights were restored by ``keep_best``; ``stopped_epoch`` the epoch where early stopping or a
    hook ended training (None if it ran to the end).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    ema_val_loss: list[float] = field(default_factory=list)
    ema_val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.train_loss)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-serialisable) of all fields."""
        return asdict(self)


@dataclass
class TrainState:
    """What a hook sees. ``step`` counts optimiser steps done before the current one (so it is
    the schedule's ``t``), ``epoch`` is 0-based, ``loss`` the current batch loss (a tensor),
    ``batch`` the current ``(x, y)`` on the device. A hook sets ``stop = True`` to end training
    after the current step."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    device: torch.device
    epoch: int = 0
    step: int = 0
    loss: torch.Tensor | None = None
    batch: tuple[torch.Tensor, torch.Tensor] | None = None
    stop: bool = False


class Hook:
    """Base class of :func:`fit` hooks: override any of the methods (each gets the
    :class:`TrainState`). A plain callable given as a hook is called as ``on_step_end``."""

    def on_fit_start(self, state: TrainState) -> None: ...

    def on_epoch_start(self, state: TrainState) -> None: ...

    def after_backward(self, state: TrainState) -> None: ...

    def on_step_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...

    def on_fit_end(self, state: TrainState) -> None: ...


def _call_hooks(hooks: Sequence[Any], event: str, state: TrainState) -> None:
    for hook in hooks:
        method = getattr(hook, event, None)
        if method is not None:
            method(state)
        elif event == "on_step_end" and callable(hook):
            hook(state)


def _targets_to_labels(y: torch.Tensor) -> torch.Tensor:
    """Integer labels of hard (N,) or soft (N, C) targets (argmax of the soft ones)."""
    return y.argmax(dim=-1) if y.is_floating_point() and y.ndim > 1 else y


def _to_device(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = batch[0], batch[1]
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of ``model`` on ``loader``, in eval mode.

    The loss is :math:`\\frac1N\\sum_i \\ell(f(x_i), y_i)` with ``loss_fn`` (default cross-entropy,
    mean over each batch, weighted by batch size); accuracy is the fraction of examples whose
    arg-max logit equals the label. The model's training/eval mode is restored afterwards.
    ``device`` defaults to the device of the model's first parameter.
    """
    loss_fn = loss_fn or F.cross_entropy
    device = _model_device(model) if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        for batch in loader:
            x, y = _to_device(batch, device)
            logits = model(x)
            total_loss += float(loss_fn(logits.float(), y)) * len(x)
            correct += int((logits.argmax(dim=-1) == _targets_to_labels(y)).sum())
            count += len(x)
    finally:
        model.train(was_training)
    if count == 0:
        return math.nan, math.nan
    return total_loss / count, correct / count


@torch.no_grad()
def predict_proba(
    model: nn.Module, loader: Iterable, device: torch.device | str | None = None
) -> torch.Tensor:
    """Softmax probabilities :math:`p_{ic} = e^{z_{ic}} / \\sum_k e^{z_{ik}}` of ``model`` on every
    example of ``loader``, in order, as a float32 CPU tensor (N, C). Runs in eval mode."""
    device = _model_device(model) if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    try:
        out = [torch.softmax(model(_to_device(b, device)[0]).float(), dim=-1).cpu() for b in loader]
    finally:
        model.train(was_training)
    return torch.cat(out)


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _early_stop(early_stopping: Any, history: History) -> bool:
    """Ask an early-stopping object (e.g. :class:`nntrain.regularization.EarlyStopping`) whether
    to stop. It watches the history entry named by its ``monitor`` attribute if it has one, else
    ``val_acc`` when its ``mode`` is ``"max"`` and ``val_loss`` otherwise; it is called as
    ``step(value)`` if it has that method, else as ``early_stopping(value)``; True means stop."""
    default = "val_acc" if getattr(early_stopping, "mode", "min") == "max" else "val_loss"
    value = history[getattr(early_stopping, "monitor", default)][-1]
    step = getattr(early_stopping, "step", None)
    return bool(step(value) if step is not None else early_stopping(value))


def _best_key(early_stopping: Any, history: History) -> tuple[float, float]:
    """Larger is better: the early-stopping monitor (negated when minimised) if there is one,
    else (validation accuracy, -validation loss)."""
    monitor = getattr(early_stopping, "monitor", None)
    if monitor is None:
        return (history.val_acc[-1], -history.val_loss[-1])
    value = float(history[monitor][-1])
    return (value if getattr(early_stopping, "mode", "min") == "max" else -value, 0.0)


def fit(
    model: nn.Module,
    train_loader: DataLoader | Iterable,
    val_loader: DataLoader | Iterable | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | Callable[..., torch.optim.Optimizer],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    scheduler: Callable[[int], float] | torch.optim.lr_scheduler.LRScheduler | Any | None = None,
    clip_norm: float | None = None,
    ema: Any | None = None,
    early_stopping: Any | None = None,
    keep_best: bool = True,
    device: torch.device | str | None = None,
    amp: bool | str = False,
    progress: bool = True,
    hooks: Sequence[Any] = (),
    transform: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    | None = None,
) -> History:
    """Train ``model`` with mini-batch gradient descent and return its :class:`History`.

    Args:
        model: the network; moved to ``device``.
        train_loader: iterable of ``(x, y)`` batches, ``y`` integer labels or soft (N, C) targets.
        val_loader: evaluated (cross-entropy, accuracy) after every epoch, if given.
        epochs: number of passes over ``train_loader``.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters, or a factory called
            as ``optimizer(model.parameters())``.
        loss_fn: training loss ``loss_fn(logits, y)``; default ``F.cross_entropy`` (which also
            takes soft targets). Validation always uses cross-entropy.
        scheduler: either a function of the step ``t -> lr`` (e.g. a partial of
            :mod:`nntrain.schedules`), applied before every step — with several parameter
            groups each group gets ``lr(t)`` times its initial learning rate divided by the first
            group's, so per-group ratios (fine-tuning) are kept — or a torch LR scheduler, stepped
            after every optimiser step (``ReduceLROnPlateau`` is stepped once per epoch with the
            validation loss).
        clip_norm: clip the global gradient norm to this value (``clip_grad_norm_``; Pascanu et
            al., 2013) after backward and before the optimiser step.
        ema: an object with ``update(model)`` (e.g. :class:`nntrain.ensembles.EMA`) called after
            every optimiser step; if it is an ``nn.Module`` it is moved to ``device`` and, with a
            validation loader, evaluated every epoch (``ema_val_loss``, ``ema_val_acc``).
        early_stopping: e.g. :class:`nntrain.regularization.EarlyStopping`: an object with
            ``step(value) -> bool`` (or a callable ``value -> bool``) called after every epoch
            with the history entry named by its ``monitor`` (default the validation loss, or
            the validation accuracy if its ``mode`` is ``"max"``); True stops training.
        keep_best: with a validation loader, restore at the end the weights of the best epoch:
            with an ``early_stopping`` object that names a ``monitor``, the epoch of its best
            value (lowest unless its ``mode`` is ``"max"``), so that the restored epoch is the
            one early stopping watched; otherwise the highest validation accuracy (ties: lowest
            validation loss).
        device: where to train; default :func:`get_device` ``("auto")``.
        amp: mixed precision on CUDA (Micikevicius et al., 2018, "Mixed Precision Training"):
            ``True`` or ``"fp16"`` autocasts to float16 with a ``GradScaler``, ``"bf16"`` to
            bfloat16 without scaling. Ignored, with a warning, on other devices.
        progress: show a tqdm bar over the steps.
        hooks: :class:`Hook` objects (or callables run after each step).
        transform: ``(x, y) -> (x, y)`` applied to each training batch on the device
            (augmentation, mixup/CutMix with soft targets).
    """
    device = get_device("auto") if device is None else get_device(device)
    model.to(device)
    if isinstance(ema, nn.Module):
        ema.to(device)
    if not isinstance(optimizer, torch.optim.Optimizer):
        optimizer = optimizer(model.parameters())
    loss_fn = loss_fn or F.cross_entropy

    amp_dtype = None
    if amp:
        if device.type != "cuda":
            warnings.warn(f"amp={amp!r} is only used on CUDA; training in float32 on {device}",
                          stacklevel=2)
        else:
            amp_dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    schedule_fn = None
    torch_scheduler = None
    plateau_scheduler = None
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        plateau_scheduler = scheduler
    elif isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        torch_scheduler = scheduler
    elif scheduler is not None:
        schedule_fn = scheduler
    initial_lrs = [g["lr"] for g in optimizer.param_groups]
    lr_ratios = [lr / initial_lrs[0] if initial_lrs[0] else 1.0 for lr in initial_lrs]

    history = History()
    state = TrainState(model=model, optimizer=optimizer, history=history, device=device)
    has_val = val_loader is not None
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    params = [p for p in model.parameters()]

    try:
        total_steps = epochs * len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        total_steps = None
    bar = tqdm(total=total_steps, disable=not progress, desc="fit", unit="step", leave=True)
    _call_hooks(hooks, "on_fit_start", state)
    try:
        for epoch in range(epochs):
            state.epoch = epoch
            model.train()
            _call_hooks(hooks, "on_epoch_start", state)  # after train(): may set modules to eval
            start = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for batch in train_loader:
                x, y = _to_device(batch, device)
                if transform is not None:
                    x, y = transform(x, y)
                if schedule_fn is not None:
                    lr = float(schedule_fn(state.step))
                    for group, ratio in zip(optimizer.param_groups, lr_ratios, strict=True):
                        group["lr"] = lr * ratio
                autocast = (torch.autocast(device_type="cuda", dtype=amp_dtype)
                            if amp_dtype is not None else nullcontext())
                with autocast:
                    logits = model(x)
                    loss = loss_fn(logits, y)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                else:
                    loss.backward()
                state.loss, state.batch = loss.detach(), (x, y)
                _call_hooks(hooks, "after_backward", state)
                if clip_norm is not None:
                    norm = torch.nn.utils.clip_grad_norm_(params, clip_norm)
                    history.step_grad_norm.append(float(norm))
                history.step_lr.append(optimizer.param_groups[0]["lr"])
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                if torch_scheduler is not None:
                    torch_scheduler.step()
                if ema is not None:
                    ema.update(model)
                n = len(x)
                loss_sum += loss.detach().float() * n
                correct += (logits.detach().argmax(dim=-1) == _targets_to_labels(y)).sum()
                seen += n
                history.step_loss.append(float(loss.detach()))
                _call_hooks(hooks, "on_step_end", state)
                state.step += 1
                bar.update(1)
                if state.stop:
                    break

            history.train_loss.append(float(loss_sum) / max(seen, 1))
            history.train_acc.append(float(correct) / max(seen, 1))
            history.lr.append(optimizer.param_groups[0]["lr"])
            postfix = {"loss": history.train_loss[-1]}
            if has_val:
                val_loss, val_acc = evaluate(model, val_loader, device)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                postfix.update(val_loss=val_loss, val_acc=val_acc)
                if isinstance(ema, nn.Module):
                    ema_loss, ema_acc = evaluate(ema, val_loader, device)
                    history.ema_val_loss.append(ema_loss)
                    history.ema_val_acc.append(ema_acc)
                if keep_best:
                    key = _best_key(early_stopping, history)
                    if best_key is None or key > best_key:
                        best_key, history.best_epoch = key, epoch
                        best_state = {k: v.detach().clone()
                                      for k, v in model.state_dict().items()}
                if plateau_scheduler is not None:
                    plateau_scheduler.step(val_loss)
                if early_stopping is not None and _early_stop(early_stopping, history):
                    state.stop = True
            history.epoch_time.append(time.perf_counter() - start)
            bar.set_postfix({k: round(v, 4) for k, v in postfix.items()})
            _call_hooks(hooks, "on_epoch_end", state)
            if state.stop:
                history.stopped_epoch = epoch
                break
    finally:
        bar.close()
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    _call_hooks(hooks, "on_fit_end", state)
    return history

