"""Claims of book/02_preprocessing.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    for name, value in glued.items():
        if not name.startswith("fig_"):
            assert isinstance(value, int | float) and math.isfinite(value), (name, value)

    # positive inputs: a staircase that takes far longer than the straight path of centred ones
    assert glued["steps_positive"] > 3 * glued["steps_centred"], (
        glued["steps_positive"], glued["steps_centred"])

    # a rotation of 0.05 rad: the loss "shoots up" before normalisation, "barely" moves after
    assert glued["loss_rotated_raw"] > 3 * glued["loss_raw"]
    assert glued["loss_rotated_normalised"] < 1.1 * glued["loss_normalised"]

    # centring, normalising, whitening each lower the condition number; whitening makes it 1
    assert (glued["kappa_raw"] > glued["kappa_zero"] > glued["kappa_normalised"]
            > glued["kappa_zca"])
    assert abs(glued["kappa_zca"] - 1) < 1e-6, glued["kappa_zca"]

    # the 64 pixels are redundant: far fewer components keep 90 % of the variance
    assert glued["k90"] < glued["n_components"] / 2
