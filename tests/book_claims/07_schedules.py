"""Claims of book/07_schedules.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    for name, value in glued.items():
        if not name.startswith("fig_"):
            assert isinstance(value, int | float) and math.isfinite(value), (name, value)

    # warmup: "training is much better" with it, at the experiment's rate of 0.01 (exercise 10
    # starts from this: warmup already matters at 0.01)
    assert glued["warm_lr"] == 0.01
    assert glued["warm_train_loss"] < 0.5 * glued["cold_train_loss"], (
        f"final training loss with warmup {glued['warm_train_loss']:.3f}, without "
        f"{glued['cold_train_loss']:.3f}: not much better")
    assert glued["warm_val_acc"] > glued["cold_val_acc"]

    # "the constant rate ends with the highest training loss"
    assert glued["const_train_loss"] > glued["decayed_train_loss_max"], (
        f"constant {glued['const_train_loss']:.4f} vs the highest decaying schedule "
        f"{glued['decayed_train_loss_max']:.4f}")
    assert glued["decayed_train_loss_min"] <= glued["decayed_train_loss_max"]

    # "differences of a percent or so": the test accuracies are close
    spread = glued["test_acc_max"] - glued["test_acc_min"]
    assert 0 <= spread < 0.03, f"test accuracies span {spread:.3f}"
