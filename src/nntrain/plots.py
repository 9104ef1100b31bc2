"""The book's recurring figures: learning curves, schedules, histograms and optimiser paths.

Every function draws into the ``ax``/``axes`` it is given (or a new figure) and returns the
matplotlib Axes (or an array of Axes) it drew on, so chapters can combine and restyle them.

Public names
------------
plot_learning_curves
    Training and validation loss / accuracy per epoch of one or several runs.
plot_schedules
    Learning rate against step for several schedules on one Axes.
plot_histograms
    One histogram per layer (activations or gradients), with mean and std in the titles.
plot_trajectories
    Optimiser trajectories over the contour plot of a 2-D function.
book_style
    The book's matplotlib defaults: figures sized for its 688-pixel text column, legible fonts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

__all__ = [
    "BOOK_DPI", "BOOK_STYLE", "BOOK_WIDTH", "book_style",
    "plot_histograms", "plot_learning_curves", "plot_schedules", "plot_trajectories",
]

# The book's text column is 688 CSS pixels wide (sphinx-book-theme at 1280 px); a figure drawn
# 6.8 in wide at 100 dpi fills it at its natural size, so 10-point text stays 10-point text.
#: Width in inches of a figure that fills the book's text column at :data:`BOOK_DPI`.
BOOK_WIDTH = 6.8
#: Resolution of the book's figures: one inch is 100 CSS pixels, so nothing is rescaled.
BOOK_DPI = 100
#: The rcParams :func:`book_style` sets.
BOOK_STYLE: dict[str, Any] = {
    "figure.figsize": (BOOK_WIDTH, 3.2),
    "figure.dpi": BOOK_DPI,
    "savefig.dpi": BOOK_DPI,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
    "lines.linewidth": 1.6,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_METRIC_LABELS = {"loss": "cross-entropy loss", "acc": "accuracy"}


def _get(history: Any, key: str) -> list[float]:
    value = history[key] if isinstance(history, Mapping) else getattr(history, key, None)
    return list(value) if value is not None else []


def book_style() -> None:
    """Set matplotlib's defaults to :data:`BOOK_STYLE` (each chapter calls it once, at the top).

    Figures default to :data:`BOOK_WIDTH` inches at :data:`BOOK_DPI` dpi, the width of the book's
    text column, with a tight bounding box, constrained layout and 9-10 point text.
    """
    plt.rcParams.update(BOOK_STYLE)


def fit_width(width: float, height: float, max_width: float = BOOK_WIDTH) -> tuple[float, float]:
    """``(width, height)`` scaled down, aspect kept, so that the width is at most ``max_width``."""
    if width <= max_width:
        return width, height
    return max_width, height * max_width / width


def _new_axes(n: int, size: tuple[float, float] = (3.4, 2.8)) -> np.ndarray:
    """``n`` Axes side by side in a new figure, each ``size`` inches, the row no wider than the
    book's column (panels shrink, aspect kept)."""
    fig, axes = plt.subplots(1, n, figsize=fit_width(size[0] * n, size[1]), squeeze=False,
                             layout="constrained")
    return axes[0]


def plot_learning_curves(
    history: Any | Mapping[str, Any],
    ax: Axes | Sequence[Axes] | None = None,
    metrics: Sequence[str] = ("loss", "acc"),
    splits: Sequence[str] = ("train", "val"),
) -> np.ndarray:
    """Learning curves: ``{split}_{metric}`` against the epoch (1-based).

    ``history`` is a :class:`nntrain.train.History` (or a dict with the same keys), or a dict
    ``{label: history}`` of several runs drawn in different colours; training curves are dashed,
    validation curves solid. One Axes per metric (``"loss"``, ``"acc"``): pass them in ``ax`` or a
    new figure is made. Returns the array of Axes.
    """
    is_single = not isinstance(history, Mapping) or "train_loss" in history
    runs = {"": history} if is_single else dict(history)
    axes = _new_axes(len(metrics)) if ax is None else np.atleast_1d(np.asarray(ax, dtype=object))
    if len(axes) != len(metrics):
        raise ValueError(f"got {len(axes)} Axes for {len(metrics)} metrics")
    styles = {"train": "--", "val": "-", "ema_val": ":"}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, run) in enumerate(runs.items()):
        colour = colours[i % len(colours)]
        for a, metric in zip(axes, metrics, strict=True):
            for split in splits:
                values = _get(run, f"{split}_{metric}")
                if not values:
                    continue
                name = " ".join(part for part in (label, split) if part)
                a.plot(np.arange(1, len(values) + 1), values, styles.get(split, "-"),
                       color=colour, label=name)
    for a, metric in zip(axes, metrics, strict=True):
        a.set_xlabel("epoch")
        a.set_ylabel(_METRIC_LABELS.get(metric, metric))
        if metric == "loss":
            a.set_yscale("log")
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    return axes


def plot_schedules(
    schedules: Mapping[str, Callable[[int], float] | Sequence[float]],
    total_steps: int | None = None,
    ax: Axes | None = None,
    log: bool = False,
) -> Axes:
    """Learning rate against the step for each schedule of ``{name: schedule}``.

    A schedule is a function of the step ``t -> lr`` (evaluated at ``t = 0..total_steps-1``) or
    an already computed sequence of learning rates.
    """
    if ax is None:
        ax = _new_axes(1, (BOOK_WIDTH, 3.2))[0]
    for name, schedule in schedules.items():
        if callable(schedule):
            if total_steps is None:
                raise ValueError("total_steps is needed to evaluate schedule functions")
            values = [float(schedule(t)) for t in range(total_steps)]
        else:
            values = [float(v) for v in schedule]
        ax.plot(np.arange(len(values)), values, label=name)
    ax.set_xlabel("step $t$")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _new_grid(n: int, size: tuple[float, float], max_cols: int) -> np.ndarray:
    """``n`` Axes in rows of at most ``max_cols``, each ``size`` inches, the figure no wider than
    the book's column; spare cells of the last row are switched off."""
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=fit_width(size[0] * cols, size[1] * rows),
                             squeeze=False, layout="constrained")
    for a in axes.flat[n:]:
        a.set_axis_off()
    return axes.flat[:n]


def plot_histograms(
    values: Mapping[str, torch.Tensor | np.ndarray] | Sequence[torch.Tensor | np.ndarray],
    bins: int = 50,
    axes: Sequence[Axes] | None = None,
    range: tuple[float, float] | None = None,
    xlabel: str = "value",
    sharey: bool = False,
) -> np.ndarray:
    """One histogram per entry (e.g. the activations or gradients of each layer).

    ``values`` is ``{name: tensor}`` or a list (named "layer 1", "layer 2", …). Each panel's title
    gives the entry's mean and standard deviation, the numbers the initialisation chapter reads
    off (a std shrinking layer by layer means vanishing activations). ``range`` fixes a common
    x-range so panels compare. A new figure puts at most three panels in a row.
    """
    if not isinstance(values, Mapping):
        values = {f"layer {i}": v for i, v in enumerate(values, start=1)}
    if axes is None:
        axes = _new_grid(len(values), (2.2, 1.9), max_cols=3)
        if sharey:
            for a in axes[1:]:
                a.sharey(axes[0])
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    if len(axes) != len(values):
        raise ValueError(f"got {len(axes)} Axes for {len(values)} histograms")
    for a, (name, v) in zip(axes, values.items(), strict=True):
        data = v.detach().float().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        data = data.ravel()
        a.hist(data, bins=bins, range=range, color="C0", alpha=0.85)
        a.set_title(f"{name}\nmean {data.mean():+.2f}  std {data.std():.2f}", fontsize="small")
        a.set_xlabel(xlabel)
        a.set_yticks([])
    return axes


def plot_trajectories(
    fn: Callable[[torch.Tensor], torch.Tensor],
    trajectories: Mapping[str, torch.Tensor | np.ndarray],
    ax: Axes | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    levels: int = 30,
    log_levels: bool = True,
    minimum: Sequence[float] | None = None,
    resolution: int = 200,
) -> Axes:
    """Optimiser paths drawn over the contour lines of a 2-D function.

    ``fn`` maps (..., 2) tensors to (...) values (e.g. :func:`nntrain.optim.rosenbrock`);
    ``trajectories`` is ``{optimiser name: (T, 2) points}``. Contour levels are spaced
    logarithmically in :math:`f - f_{\\min}` when ``log_levels`` (the only way to see the floor of
    a narrow valley); ``minimum`` marks a known minimiser with a star. The view covers all paths
    with a margin unless ``xlim``/``ylim`` are given.
    """
    if ax is None:
        ax = _new_axes(1, (5.0, 4.0))[0]
    paths = {k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
             for k, v in trajectories.items()}
    points = np.concatenate([p for p in paths.values()] + ([np.asarray([minimum])]
                                                            if minimum is not None else []))
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.15 * np.maximum(hi - lo, 1e-3)
    xlim = xlim or (lo[0] - margin[0], hi[0] + margin[0])
    ylim = ylim or (lo[1] - margin[1], hi[1] + margin[1])
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    grid = torch.as_tensor(np.stack([gx, gy], axis=-1), dtype=torch.float64)
    with torch.no_grad():
        z = fn(grid).detach().cpu().numpy()
    if log_levels:
        shifted = z - z.min() + 1e-12
        lv = np.geomspace(max(shifted.min(), np.percentile(shifted, 0.5) / 10 + 1e-9),
                          shifted.max(), levels)
        ax.contour(gx, gy, shifted, levels=lv, cmap="Greys", linewidths=0.6)
    else:
        ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6)
    for name, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], ".-", markersize=2.5, linewidth=1.2, label=name)
    if minimum is not None:
        ax.plot(*minimum, marker="*", color="k", markersize=12, linestyle="none", label="minimum")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.legend(fontsize="small", loc="best")
    return ax
