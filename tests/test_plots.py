"""Tests of nntrain.plots: each function draws what it is given and returns its Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from nntrain.plots import (
    BOOK_DPI,
    BOOK_STYLE,
    BOOK_WIDTH,
    book_style,
    fit_width,
    plot_histograms,
    plot_learning_curves,
    plot_schedules,
    plot_trajectories,
)
from nntrain.train import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _history(offset: float = 0.0) -> History:
    return History(train_loss=[1.0 + offset, 0.5, 0.3], val_loss=[1.1, 0.6, 0.4 + offset],
                   train_acc=[0.5, 0.7, 0.9], val_acc=[0.4, 0.6, 0.8])


def test_learning_curves_single_history():
    axes = plot_learning_curves(_history())
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2  # train and val
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), [1.1, 0.6, 0.4])
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert loss_ax.get_yscale() == "log"


def test_learning_curves_several_runs_and_dicts():
    runs = {"a": _history(), "b": _history(0.2).as_dict()}
    axes = plot_learning_curves(runs, metrics=("loss",))
    assert len(axes) == 1 and len(axes[0].lines) == 4
    labels = [line.get_label() for line in axes[0].lines]
    assert labels == ["a train", "a val", "b train", "b val"]
    assert axes[0].lines[0].get_color() != axes[0].lines[2].get_color()


def test_learning_curves_into_given_axes_and_mismatch():
    fig, ax = plt.subplots()
    out = plot_learning_curves(_history(), ax=ax, metrics=("acc",), splits=("val",))
    assert out[0] is ax and len(ax.lines) == 1
    with pytest.raises(ValueError, match="Axes"):
        plot_learning_curves(_history(), ax=ax)  # one Axes for two metrics


def test_schedules_functions_and_sequences():
    ax = plot_schedules({"halving": lambda t: 0.1 * 0.5 ** (t // 10), "list": [0.05] * 30},
                        total_steps=30)
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata()[[0, 10, 29]], [0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="total_steps"):
        plot_schedules({"f": lambda t: 1.0})


def test_histograms_titles_report_mean_and_std():
    torch.manual_seed(0)
    values = {"layer 1": torch.randn(1000) * 2, "layer 2": torch.randn(1000) * 0.5}
    axes = plot_histograms(values, bins=20)
    assert len(axes) == 2
    assert "std 0.50" in axes[1].get_title() or "std 0.49" in axes[1].get_title()
    assert len(axes[0].patches) == 20
    axes = plot_histograms([np.zeros(10), np.ones(10), np.ones(10)], range=(-1, 2))
    assert [a.get_title().split("\n")[0] for a in axes] == ["layer 1", "layer 2", "layer 3"]


def test_trajectories_over_contours():
    def bowl(w):
        return w[..., 0] ** 2 + 10 * w[..., 1] ** 2

    path = torch.stack([torch.linspace(-2, 0, 20), torch.linspace(1, 0, 20)], dim=1)
    ax = plot_trajectories(bowl, {"sgd": path, "other": path.numpy() * 0.5}, minimum=(0, 0))
    assert len(ax.lines) == 3  # two paths and the star
    np.testing.assert_allclose(ax.lines[0].get_xydata(), path.numpy())
    x0, x1 = ax.get_xlim()
    assert x0 < -2 and x1 > 0  # the view covers the paths
    assert len(ax.collections) > 0  # contour lines drawn
    ax2 = plot_trajectories(bowl, {"sgd": path}, xlim=(-3, 3), ylim=(-1, 2), log_levels=False)
    assert ax2.get_xlim() == (-3, 3)


def test_book_style_fits_the_column():
    with plt.rc_context():
        book_style()
        assert plt.rcParams["figure.figsize"][0] == BOOK_WIDTH <= 6.9
        assert plt.rcParams["figure.dpi"] == BOOK_DPI == 100
        assert plt.rcParams["savefig.bbox"] == "tight"
        assert plt.rcParams["font.size"] >= 9 and plt.rcParams["legend.fontsize"] >= 8
        fig = plt.figure()
        assert fig.get_size_inches()[0] * fig.dpi <= 690  # pixels of the 688 px column
    assert set(BOOK_STYLE) <= set(plt.rcParams)


def test_fit_width_keeps_the_aspect_and_caps_the_width():
    assert fit_width(4.0, 3.0) == (4.0, 3.0)
    w, h = fit_width(13.6, 3.2)
    assert w == BOOK_WIDTH and h == pytest.approx(1.6)


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_new_figures_are_no_wider_than_the_column(n):
    values = {f"layer {i}": np.arange(10.0) for i in range(n)}
    axes = plot_histograms(values)
    assert axes[0].figure.get_size_inches()[0] <= BOOK_WIDTH + 1e-9
    axes = plot_learning_curves(_history())
    assert axes[0].figure.get_size_inches()[0] <= BOOK_WIDTH + 1e-9


def test_histograms_of_many_layers_wrap_into_rows_of_three():
    axes = plot_histograms([np.arange(5.0)] * 5)
    assert len(axes) == 5
    fig = axes[0].figure
    assert len([a for a in fig.axes if a.axison]) == 5  # the sixth cell is switched off
    assert len({round(a.get_position().y0, 3) for a in axes}) == 2  # two rows
