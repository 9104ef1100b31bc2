"""Claims of book/03_init.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    for name, value in glued.items():
        if not name.startswith("fig_"):
            assert isinstance(value, int | float) and math.isfinite(value), (name, value)

    # N(0, 0.01^2), width 4096: the std shrinks by a constant factor a little below
    # sqrt(4096) * 0.01 = 0.64 per layer ("tanh is sublinear")
    assert 0.5 < glued["small_factor"] < 0.64, glued["small_factor"]
    assert glued["small_std_last"] < 0.1 * glued["small_std_first"]
    # N(0, 0.05^2): "many units output nearly +-1"
    assert glued["saturated_min"] > 0.3, glued["saturated_min"]
    # ReLU: Xavier lets the activations collapse, Kaiming keeps them
    assert glued["kaiming_relu_std_last"] > 5 * glued["xavier_relu_std_last"]

    # training: zeros and the tiny init stay at chance (10 classes) ...
    for key in ("zeros", "small"):
        assert glued[f"val_acc_{key}"] <= 0.15, (key, glued[f"val_acc_{key}"])
    # ... the large one trains but learns more slowly at first and generalises less well ...
    assert glued["val_acc_epoch1_large"] < glued["val_acc_epoch1_xavier"]
    assert glued["val_acc_large"] < glued["val_acc_xavier"]
    # ... Xavier (tanh) and Kaiming (ReLU) learn from the first epoch
    for key in ("xavier", "kaiming"):
        assert glued[f"val_acc_epoch1_{key}"] > 0.6, (key, glued[f"val_acc_epoch1_{key}"])
        assert glued[f"val_acc_{key}"] > 0.9, (key, glued[f"val_acc_{key}"])

    # residual blocks: the variance about doubles per block; zero-init keeps it exactly
    assert 1.5 < glued["res_ratio_min"] <= glued["res_ratio_max"] < 2.5
    assert glued["res_zeroed_spread"] < 1.01, glued["res_zeroed_spread"]
