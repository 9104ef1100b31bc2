"""Claims of book/04_regularization.md, checked against its glued values.

``check(glued)`` raises AssertionError naming the sentence that the numbers contradict.
"""

from __future__ import annotations


def _claim(ok: bool, sentence: str, **numbers: object) -> None:
    if not ok:
        shown = ", ".join(f"{k}={v!r}" for k, v in numbers.items())
        raise AssertionError(f"ch 4 says: {sentence!r}; but the run glued {shown}")


def _min(glued: dict, name: str, key: str = "val_acc_range") -> float:
    return float(glued[key][name][0])


def _max(glued: dict, name: str, key: str = "val_acc_range") -> float:
    return float(glued[key][name][1])


def check(glued: dict[str, object]) -> None:
    g = glued
    _claim(g["none_train_acc"] >= 0.95 and g["none_val_acc"] < g["none_train_acc"] - 0.1,
           "it has memorised the wrong labels too ... its validation accuracy [far below]",
           none_train_acc=g["none_train_acc"], none_val_acc=g["none_val_acc"])
    _claim(g["none_best_epoch"] < g["epochs"]
           and g["none_final_val_loss"] > g["none_best_val_loss"] * 1.2,
           "The validation loss is lowest at epoch N ... and ends at [a higher value]",
           none_best_epoch=g["none_best_epoch"], best=g["none_best_val_loss"],
           final=g["none_final_val_loss"])
    # weight penalties
    _claim(g["zero_L2"] == 0.0 and g["zero_none"] == 0.0,
           "L2 leaves 0% of the first-layer weights at zero", zero_L2=g["zero_L2"])
    _claim(g["norm_L2"] < g["norm_none"], "and shrinks them all (their norm falls)",
           norm_none=g["norm_none"], norm_L2=g["norm_L2"])
    _claim(g["zero_L1"] > 0.1 and g["zero_elastic_net"] > 0.1,
           "L1 sets a large share of them to exactly zero and the elastic net too",
           zero_L1=g["zero_L1"], zero_elastic_net=g["zero_elastic_net"])
    # Monte-Carlo dropout
    mc = g["mc_nll"]
    _claim(g["mc1_nll"] > g["det_nll"] and g["mc1_acc"] < g["det_acc"],
           "A single masked network is clearly worse than the deterministic pass",
           mc1_nll=g["mc1_nll"], det_nll=g["det_nll"], mc1_acc=g["mc1_acc"],
           det_acc=g["det_acc"])
    _claim(all(a > b for a, b in zip(mc[:4], mc[1:5], strict=True)),
           "averaging more masked networks improves the cross-entropy quickly up to K = 16",
           mc_nll=mc)
    _claim(max(mc[4:]) - min(mc[4:]) < 0.1 * mc[4], "and then levels off", mc_nll=mc)
    _claim(g["det_vs_mc128"] == ("lower" if g["det_nll"] < g["mc128_nll"] else "higher"),
           "the deterministic pass ... is {lower|higher} than that",
           det_vs_mc128=g["det_vs_mc128"], det_nll=g["det_nll"], mc128_nll=g["mc128_nll"])
    # batch norm
    _claim(g["bn_diff"] < 1e-10, "it agrees with nn.BatchNorm1d", bn_diff=g["bn_diff"])
    _claim(g["bn_train_mode_2"] < g["bn_eval_acc"] - 0.1,
           "with batches of two the accuracy falls", bn_eval_acc=g["bn_eval_acc"],
           bn_train_mode_2=g["bn_train_mode_2"])
    # fractional max pooling
    _claim(g["fmp_same_size_as_torch"] is True and g["fmp_draws_differ"] is True,
           "each layer rounds the size down, as PyTorch does ... Each draw keeps different "
           "pixels", same=g["fmp_same_size_as_torch"], differ=g["fmp_draws_differ"])
    # stochastic depth
    _claim(g["branch_share_row"] == 1.0 and g["branch_share_plain"] == 1.0,
           "the per-example version [runs every branch]", row=g["branch_share_row"])
    _claim(abs(g["branch_share_batch"] - g["expected_branch_share"]) < 0.1,
           "the per-batch version ran x% of the branch evaluations (the expectation is y%)",
           batch=g["branch_share_batch"], expected=g["expected_branch_share"])
    res = "residual MLP"
    row, batch = "+ stochastic depth, per example", "+ stochastic depth, per batch"
    _claim(_min(g, row) > _max(g, res),
           "its worst seed is just above the plain network's best",
           sd_row_min=_min(g, row), res_max=_max(g, res))
    _claim(_min(g, batch) <= _max(g, res),
           "Per batch ... across the plain network's range, so that gain is not shown",
           sd_batch=g["val_acc_range"][batch], res=g["val_acc_range"][res])
    # early stopping
    _claim(g["es_best_epoch"] == g["es_monitor_best_epoch"] == g["es_lowest_val_loss_epoch"],
           "restored epoch N, the epoch of the lowest validation loss",
           restored=g["es_best_epoch"], monitor=g["es_monitor_best_epoch"],
           lowest=g["es_lowest_val_loss_epoch"])
    _claim(abs(g["es_restored_val_loss"] - g["es_best_val_loss"]) < 1e-6,
           "the restored model measures [the best validation loss]",
           restored=g["es_restored_val_loss"], best=g["es_best_val_loss"])
    _claim(g["es_stopped"] < g["epochs"], "Early stopping ended the seed-0 run after epoch N",
           es_stopped=g["es_stopped"])
    # the summary
    mlp = g["methods"][1:8]
    better = [n for n in mlp if _min(g, n) > _max(g, "none")]
    _claim(g["better_acc_text"] == ", ".join(better),
           "On every seed, <list> beat the unregularised network's validation accuracy",
           glued=g["better_acc_text"], measured=better)
    for name in ("L2", "dropout 0.5", "early stopping"):
        _claim(name in better, f"On every seed, ... {name} ... beat the unregularised network",
               val_acc_range=g["val_acc_range"][name], none=g["val_acc_range"]["none"])
    lower = [n for n in mlp if _max(g, n, "val_loss_range") < _min(g, "none", "val_loss_range")]
    _claim(g["lower_loss_text"] == ", ".join(lower),
           "<list> beat its validation loss", glued=g["lower_loss_text"], measured=lower)
    _claim("L1" in lower and "L1" not in better,
           "L1 lowers the validation loss on every seed, but its accuracy overlaps the "
           "unregularised range", L1=g["val_acc_range"]["L1"], none=g["val_acc_range"]["none"])
    raised = [n for n in mlp if g["train_loss"][n] > g["train_loss"]["none"]]
    _claim(g["raise_train_text"] == ", ".join(raised) and "batch norm" not in raised,
           "the training loss ... is higher than without regularisation for <list>; batch "
           "normalisation ... fits the noisy training set even better",
           glued=g["raise_train_text"], train_loss=g["train_loss"])
    _claim("batch norm" not in better and "batch norm" not in lower,
           "[batch normalisation] does not regularise on this task",
           bn=g["val_acc_range"]["batch norm"], none=g["val_acc_range"]["none"])
