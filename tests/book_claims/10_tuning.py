"""Claims of book/10_tuning.md, checked against its glued values.

``check(glued)`` raises AssertionError naming the sentence that the numbers contradict.
"""

from __future__ import annotations

import math


def _claim(ok: bool, sentence: str, **numbers: object) -> None:
    if not ok:
        shown = ", ".join(f"{k}={v!r}" for k, v in numbers.items())
        raise AssertionError(f"ch 10 says: {sentence!r}; but the run glued {shown}")


def _overfits(val_loss: list[float], train_loss: list[float], rise: float = 0.1) -> bool:
    """Rule 3 of diagnose_learning_curve on the validation loss (tail: the last third)."""
    tail = max(3, len(train_loss) // 3)
    before = val_loss[:-tail]
    best = min(range(len(before)), key=before.__getitem__)
    return min(val_loss[-tail:]) > (1 + rise) * before[best] and train_loss[-1] < train_loss[best]


def check(glued: dict[str, object]) -> None:
    g = glued
    _claim(g["synthetic_best_random"] > g["synthetic_best_grid"]
           and g["synthetic_random_wins"] > 0.5,
           "the best of nine random trials ... beats the grid in x% of repetitions",
           random=g["synthetic_best_random"], grid=g["synthetic_best_grid"],
           wins=g["synthetic_random_wins"])
    _claim(g["grid_wd_effect"] < g["grid_lr_effect"] / 5,
           "For this short training the learning rate is what matters",
           wd_effect=g["grid_wd_effect"], lr_effect=g["grid_lr_effect"])
    _claim(abs(g["initial_loss"] - g["log_c"]) < 0.1 * g["log_c"] and g["initial_ok"] is True,
           "The model of the recipe starts at a loss of x, against log C",
           initial_loss=g["initial_loss"], log_c=g["log_c"])
    _claim(g["large_init_min_ratio"] > 2, "with weights of standard deviation 1 it is far above",
           ratio=g["large_init_min_ratio"])
    _claim(g["overfit_good_success"] is True and g["overfit_tiny_acc"] < 0.5,
           "With the rate 0.05 the model memorised ...; with 5e-5 it reached only ...",
           memorised=g["overfit_good_success"], small_acc=g["overfit_tiny_acc"])
    # the coarse grid
    rates = g["coarse_rates"]
    _claim(math.isclose(g["coarse_first_best_lr"], g["coarse_first_top_lr"]),
           "The best rate of the first grid was x, its largest",
           first_best=g["coarse_first_best_lr"], top=g["coarse_first_top_lr"])
    _claim(rates[0] < g["coarse_best_lr"] < rates[-1] and g["coarse_extensions"] >= 1,
           "the grid was extended ... until the best rate lay inside it",
           best=g["coarse_best_lr"], rates=rates)
    _claim(g["coarse_wd_cost"] > 3 * g["coarse_seed_std"],
           "a decay of 1e-1 costs x of validation accuracy ... so the search can drop that region",
           cost=g["coarse_wd_cost"], seed_std=g["coarse_seed_std"])
    _claim(g["coarse_small_wd_diff"] < g["coarse_seed_std"],
           "Between 1e-5 and 1e-3 the difference is smaller than the spread over seeds",
           diff=g["coarse_small_wd_diff"], seed_std=g["coarse_seed_std"])
    # step 6
    for name, label, val, train, gap in zip(g["fine_names"], g["fine_labels"],
                                            g["fine_val_loss"], g["fine_train_loss"],
                                            g["fine_gap"], strict=True):
        _claim(not _overfits(val, train) and gap < 0.1 and label != "overfitting",
               "None of the three validation losses turns up and stays up, and the gap ... "
               "stays small, so none of them is called overfitting",
               finalist=name, label=label, val_loss=val, gap=gap)
    # gallery
    _claim(g["gallery_agree"] == g["gallery_total"] == 7
           and g["gallery_shown"] == g["gallery_diagnosed"],
           "Each run below was made to show one of the seven shapes ... The diagnosis matches",
           shown=g["gallery_shown"], diagnosed=g["gallery_diagnosed"])
    # the update/weight ratio
    medians = g["ratio_medians"]
    _claim(all(a < b for a, b in zip(medians[:-2], medians[1:-1], strict=True)),
           "The ratio grows with the rate", medians=medians)
    _claim(g["ratio_rule_acc"] < g["ratio_best_acc"] - 0.05
           and not math.isclose(g["ratio_rule_lr"], g["ratio_best_lr"]),
           "the rule does not pick a good rate here ... it reaches only x in five epochs",
           rule_lr=g["ratio_rule_lr"], rule_acc=g["ratio_rule_acc"],
           best_lr=g["ratio_best_lr"], best_acc=g["ratio_best_acc"])
    _claim(g["ratio_best_over_rule"] >= 5,
           "for a small network in a short run the best rate's ratio can be ten times higher",
           best_over_rule=g["ratio_best_over_rule"])
    _claim(g["ratio_top_acc"] < 0.2 and abs(math.log10(g["ratio_top_ratio"]) + 3) < 0.7,
           "the rate 1 destroys the network, yet its median ratio is back near the rule",
           top_acc=g["ratio_top_acc"], top_ratio=g["ratio_top_ratio"])
