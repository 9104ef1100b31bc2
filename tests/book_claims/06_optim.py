"""Claims of book/06_optim.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    for name, value in glued.items():
        if isinstance(value, int | float):
            assert math.isfinite(value), (name, value)

    # bias correction: the uncorrected first updates are several times larger
    assert glued["bc_update_gain"] > 1.5, glued["bc_update_gain"]
    assert glued["inflation_peak"] > 1

    # L2 in Adam drives the quiet weight to 0 and leaves the noisy one; AdamW shrinks both
    # at the same rate (1 - lr * lambda)^500 = 0.999^500, up to the noise
    assert abs(glued["l2_quiet_end"]) < 0.05 < 0.3 < glued["l2_noisy_end"]
    expected = 0.999**500
    for key in ("adamw_quiet_end", "adamw_noisy_end"):
        assert abs(glued[key] - expected) < 0.3, (key, glued[key], expected)

    # Newton: one step on the rotated bowl; Rosenbrock's minimum; the saddle point itself
    assert glued["newton_gap1_rotated"] < 1e-20
    assert all(abs(v - 1) < 1e-6 for v in glued["newton_end_rosenbrock"])
    assert all(abs(v) < 1e-6 for v in glued["newton_end_saddle"])

    # Hessian cost: gigabytes for the small MLP, petabytes for ResNet-50
    assert glued["hessian_gb_mlp"] > 1
    assert glued["hessian_gb_resnet50"] > 1e6
    assert glued["solve_days_resnet50"] > 30

    # the digits: similar accuracies, the adaptive methods reach lower training losses
    assert glued["test_acc_max"] - glued["test_acc_min"] < 0.05
    assert glued["train_loss_adaptive_max"] < glued["train_loss_sgd_family_min"]
