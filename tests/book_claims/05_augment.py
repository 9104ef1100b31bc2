"""Claims of book/05_augment.md's prose, checked against the values its run glued."""

from __future__ import annotations

TRAIN, VAL, LOSS, SHIFTED, OCCLUDED = range(5)


def check(glued: dict[str, object]) -> None:
    # label smoothing caps the confidence and puts the logit gap near its optimum
    assert glued["ls_conf_0"] > 0.9, glued["ls_conf_0"]
    assert glued["ls_conf_0"] > glued["ls_conf_01"] > glued["ls_conf_03"]
    for key in ("01", "03"):
        gap, optimum = glued[f"ls_gap_{key}"], glued[f"ls_opt_gap_{key}"]
        assert abs(gap - optimum) < 0.25 * optimum, (key, gap, optimum)
    assert glued["ls_gap_0"] > 2 * glued["ls_opt_gap_01"]

    table = glued["ablation"]
    trained = {k: v for k, v in table.items() if "test-time" not in k}
    crop = next(k for k in trained if k.startswith("random crop"))

    def rank(column: int) -> list[str]:
        return sorted(trained, key=lambda k: -trained[k][column])

    # "the model trained with random shifts is by far the most accurate on the shifted images,
    # RandAugment second; cutout the most accurate on the occluded ones"
    assert rank(SHIFTED)[0] == crop and rank(SHIFTED)[1].startswith("RandAugment"), rank(SHIFTED)
    assert rank(OCCLUDED)[0] == "cutout", rank(OCCLUDED)
    # "models trained without that augmentation lose much of their accuracy on the perturbed
    # copies"
    plain = trained["no augmentation"]
    assert plain[SHIFTED] < plain[VAL] - 0.1 and plain[OCCLUDED] < plain[VAL] - 0.1
    # "on the clean validation set the unaugmented model is hard to beat"
    assert plain[VAL] >= max(v[VAL] for v in trained.values()) - 1e-9
    # "augmentation makes training harder": counted in the prose
    assert 0 < glued["n_harder"] <= glued["n_augmented"] == len(trained) - 1
