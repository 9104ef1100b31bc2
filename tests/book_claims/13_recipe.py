"""Claims of book/13_recipe.md, checked against its glued values.

``check(glued)`` raises AssertionError naming the sentence that the numbers contradict.
"""

from __future__ import annotations

TRICKS = ["batch norm", "momentum", "weight decay", "schedule", "augmentation",
          "label smoothing", "EMA of the weights"]


def _claim(ok: bool, sentence: str, **numbers: object) -> None:
    if not ok:
        shown = ", ".join(f"{k}={v!r}" for k, v in numbers.items())
        raise AssertionError(f"ch 13 says: {sentence!r}; but the run glued {shown}")


def _verdict(without: list[float], whole: list[float]) -> str:
    diff = [a - b for a, b in zip(without, whole, strict=True)]
    if all(d < 0 for d in diff):
        return "helps"
    if all(d > 0 for d in diff):
        return "hurts"
    return "not shown"


def check(glued: dict[str, object]) -> None:
    g = glued
    _claim(g["initial_loss_kaiming"] > g["log_c"] + 0.1
           and abs(g["initial_loss_zero"] - g["log_c"]) < 1e-3,
           "with a zero last layer it is exactly log C", kaiming=g["initial_loss_kaiming"],
           zero=g["initial_loss_zero"], log_c=g["log_c"])
    _claim(g["overfit_success"] is True, "The model memorised the examples of five batches",
           success=g["overfit_success"])
    _claim(g["whole_train_above_val_share"] >= 0.4,
           "With all tricks the training loss is above the validation loss in x% of the "
           "epochs", share=g["whole_train_above_val_share"])
    runs = g["val_runs"]
    whole = runs["whole recipe"]
    verdict = {t: _verdict(runs[f"without {t}"], whole) for t in TRICKS}
    _claim(verdict == g["verdict"], "A trick helps when removing it lowers the validation "
           "accuracy on every seed, hurts when ... raises it on every seed",
           recomputed=verdict, glued=g["verdict"])
    for kind in ("helps", "hurts", "not shown"):
        found = ", ".join(t for t in TRICKS if verdict[t] == kind) or "none"
        key = f"tricks_{kind.replace(' ', '_')}"
        _claim(g[key] == found, f"the tricks that {kind}: <list>", glued=g[key],
               recomputed=found)
    for trick in ("batch norm", "momentum"):
        drop = g["val_mean"]["whole recipe"] - g["val_mean"][f"without {trick}"]
        _claim(verdict[trick] == "helps" and drop > 0.2,
               f"A large drop marks an essential trick. Momentum and BatchNorm are of this "
               f"kind here ({trick})", drop=drop)
    _claim(verdict["augmentation"] == "helps", "random shifts help here",
           without=runs["without augmentation"], whole=whole)
    dropped = ", ".join(t for t in TRICKS if verdict[t] == "hurts") or "nothing"
    _claim(g["dropped"] == dropped, "Only a trick that hurts on every seed is dropped",
           glued=g["dropped"], expected=dropped)
    ablated = {k: v for k, v in g["val_mean"].items() if k != "whole recipe"}
    best = max(ablated, key=ablated.get)
    _claim(g["best_ablated"] == best and abs(g["best_ablated_val"] - ablated[best]) < 1e-9,
           "the best configuration with a trick removed, <name>, reaches x",
           glued=g["best_ablated"], best=best, val=ablated[best])
    _claim(abs(g["final_minus_whole_test"] - (g["final_test"] - g["whole_test"])) < 1e-9,
           "what the ablation dropped changes the [test] accuracy by x",
           glued=g["final_minus_whole_test"], final=g["final_test"], whole=g["whole_test"])
    _claim(g["final_test"] > g["none_test"] + 0.3 and g["whole_val"] > g["none_val"] + 0.3,
           "Most of the way from 'none of the tricks' to the final model ...",
           final_test=g["final_test"], none_test=g["none_test"])
