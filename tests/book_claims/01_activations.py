"""Claims of book/01_activations.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    values = {k: v for k, v in glued.items() if not k.startswith("fig_")}
    for name, value in values.items():
        assert isinstance(value, int | float) and math.isfinite(value), (name, value)

    # "the first layer's gradient is ... times the last layer's": sigmoid loses by far the most
    sigmoid = glued["grad_ratio_sigmoid"]
    for other in ("tanh", "relu", "gelu"):
        assert sigmoid < 1e-3 * glued[f"grad_ratio_{other}"], (
            f"sigmoid's gradient ratio {sigmoid:.1e} is not far below {other}'s "
            f"{glued[f'grad_ratio_{other}']:.1e}")

    # "at |x| = 5 the derivative is ..." (tanh'(5) = 1 - tanh(5)^2)
    assert math.isclose(glued["tanh_grad_5"], 1 - math.tanh(5.0) ** 2, rel_tol=1e-9)

    # dead units: the larger rate kills many more, mostly in the first epoch, and they stay dead
    assert glued["dead_high_end"] > 2 * glued["dead_low_end"], (
        f"lr 0.03 ends with {glued['dead_high_end']} dead units, lr 0.003 with "
        f"{glued['dead_low_end']}: not many more")
    assert glued["dead_high_epoch1"] >= 0.8 * glued["dead_high_end"], (
        f"{glued['dead_high_epoch1']} dead after epoch 1 of {glued['dead_high_end']} at the end")
    assert glued["dead_low_init"] == glued["dead_high_init"]  # same initial weights

    # SELU keeps the std at 1 through 30 layers, ELU and tanh shrink it, ReLU halves the variance
    assert abs(glued["std30_selu"] - 1) < 0.1, glued["std30_selu"]
    assert glued["std30_elu"] < 0.5 and glued["std30_tanh"] < 0.5
    assert glued["std30_relu"] < 1e-3

    # the tanh form of GELU is much closer than the sigmoid form
    assert glued["gelu_err_tanh"] < 1e-3 < glued["gelu_err_sigmoid"] < 0.05

    # sigmoid stays at chance (10 classes); every other activation learns
    assert glued["test_acc_sigmoid"] <= 0.2, glued["test_acc_sigmoid"]
    assert glued["test_acc_others_min"] > 0.9, glued["test_acc_others_min"]
    assert glued["test_acc_others_min"] <= glued["test_acc_others_max"]
