"""Claims of book/08_large_batch.md checked against the numbers its run glued.

Accuracies are glued in percent; ``check`` raises AssertionError naming the sentence of the chapter
that the numbers contradict.
"""

from __future__ import annotations

import math


def _num(glued: dict[str, object], name: str) -> float:
    value = glued[name]
    assert isinstance(value, int | float) and math.isfinite(value), (
        f"glued value {name!r} should be a finite number, got {value!r}"
    )
    return float(value)


def check(glued: dict[str, object]) -> None:
    sizes = list(glued["batch_sizes"])  # type: ignore[arg-type]
    fixed = {b: _num(glued, f"acc_fixed_{b}") for b in sizes}
    scaled = {b: _num(glued, f"acc_scaled_{b}") for b in sizes}
    warm = {b: _num(glued, f"acc_warm_{b}") for b in sizes}
    base = fixed[sizes[0]]

    falls = [fixed[b] for b in sizes]
    assert all(a > b for a, b in zip(falls, falls[1:], strict=False)), (
        f"'Keeping the rate as the batch grows costs accuracy at once': the fixed-rate accuracy "
        f"should fall with every larger batch, got {falls} at batches {sizes}"
    )
    assert fixed[256] < base - 5, (
        f"'Keeping the rate ... costs accuracy at once': at 256 the fixed rate gives "
        f"{fixed[256]:.1f} %, not clearly below the {base:.1f} % of the base batch"
    )
    assert abs(scaled[256] - base) <= 1.0, (
        f"'at 256 it reaches ... within a point of the small batch': linear scaling gives "
        f"{scaled[256]:.1f} % against {base:.1f} %"
    )
    for b in sizes[1:]:
        assert scaled[b] > fixed[b] and warm[b] > fixed[b], (
            f"'Scaling the rate gives the large batch steps long enough': at B = {b} fixed "
            f"{fixed[b]:.1f} %, scaled {scaled[b]:.1f} %, scaled + warmup {warm[b]:.1f} %"
        )
    assert scaled[1024] < base - 3 and scaled[2048] < scaled[1024], (
        f"'The rule has a ceiling, and on this problem it comes early': scaled accuracy "
        f"{scaled[1024]:.1f} % at 1024 and {scaled[2048]:.1f} % at 2048 against {base:.1f} %"
    )
    assert _num(glued, "spread_small") < _num(glued, "spread_max"), (
        "'Up to a batch of 256 the seeds agree within ...; at the largest batches ... they "
        f"disagree by up to ...': spreads {glued['spread_small']} and {glued['spread_max']}"
    )

    seeds = _num(glued, "n_warmup_seeds")
    wins, gain = _num(glued, "warm_wins_1024"), _num(glued, "warm_gain_1024")
    assert wins > seeds / 2 and 0 < gain < 10, (
        f"'At a batch of 1024 warmup is better on ... seeds, by ... points' and 'a gain of a few "
        f"points': warmup won on {wins:.0f} of {seeds:.0f} seeds, mean gain {gain:.2f} points"
    )
    assert _num(glued, "warm_mean_1024") > _num(glued, "nowarm_mean_1024"), (
        "'At a batch of 1024 warmup is better ... on average': means "
        f"{glued['warm_mean_1024']} with and {glued['nowarm_mean_1024']} without warmup"
    )
    assert _num(glued, "peak_warm_1024") < _num(glued, "peak_nowarm_1024"), (
        "'it removes the jump of the first updates': largest early loss "
        f"{glued['peak_warm_1024']} with warmup, {glued['peak_nowarm_1024']} without"
    )
    assert _num(glued, "warm_min_1024") > _num(glued, "nowarm_min_1024"), (
        "'The worst seed tells the same story': worst seed "
        f"{glued['warm_min_1024']} % with warmup, {glued['nowarm_min_1024']} % without"
    )
    small = _num(glued, "small_batch_acc")
    best_2048 = max(_num(glued, "warm_mean_2048"), _num(glued, "nowarm_mean_2048"))
    assert best_2048 < small - 20, (
        f"'but neither variant comes near the ... % of the small batch': at 2048 the better "
        f"variant reaches {best_2048:.1f} % against {small:.1f} %"
    )
    assert math.log(10) < _num(glued, "peak_warm_2048") < _num(glued, "peak_nowarm_2048"), (
        "'the loss jumps then. The largest loss of the first two epochs is ... with warmup and "
        "... without, on average, where training starts at ln 10': "
        f"with warmup {glued['peak_warm_2048']}, without {glued['peak_nowarm_2048']}, initial "
        f"loss ln 10 = {math.log(10):.2f}"
    )
