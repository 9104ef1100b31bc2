"""Claims of book/11_ensembles.md's prose, checked against the values its run glued."""

from __future__ import annotations

import math


def check(glued: dict[str, object]) -> None:
    numbers = {k: v for k, v in glued.items() if isinstance(v, int | float)}
    for name, value in numbers.items():
        assert math.isfinite(value), (name, value)

    # Jensen: the ensemble of the first k members is never worse in NLL than their mean
    by_size, mean_by_size = glued["ensemble_nll_by_size"], glued["members_nll_mean_by_size"]
    assert len(by_size) == len(mean_by_size) == glued["n_members"]
    for k, (ens, mean) in enumerate(zip(by_size, mean_by_size, strict=True), start=1):
        assert ens <= mean + 1e-6, f"k={k}: ensemble NLL {ens:.4f} > members' mean {mean:.4f}"
    assert glued["ensemble_nll"] < glued["members_nll_mean"]

    # snapshots: each one alone is weaker than an independent member; their ensemble helps
    assert glued["snap_nll_mean"] > glued["members_nll_mean"], (
        f"snapshots' mean NLL {glued['snap_nll_mean']:.4f} is not above the members' "
        f"{glued['members_nll_mean']:.4f}")
    assert glued["snap_ensemble_nll"] < glued["snap_nll_mean"]

    # the 2-D bowl: averages sit closer to the minimum than the iterates, a larger beta closer
    assert (glued["dist_constant_beta098"] < glued["dist_constant_beta09"]
            < glued["dist_constant_SGD_iterates"])
    assert glued["dist_decreasing_uniform_average"] < glued["dist_decreasing_SGD_iterates"]

    # the EMA of a constant-rate run is lower in loss than its last weights
    assert glued["ema_nll"] < glued["const_nll"], (glued["ema_nll"], glued["const_nll"])
