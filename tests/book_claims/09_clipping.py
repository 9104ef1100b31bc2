"""Claims of book/09_clipping.md, checked against its glued values.

``check(glued)`` raises AssertionError naming the sentence that the numbers contradict.
"""

from __future__ import annotations


def _claim(ok: bool, sentence: str, **numbers: object) -> None:
    if not ok:
        shown = ", ".join(f"{k}={v!r}" for k, v in numbers.items())
        raise AssertionError(f"ch 9 says: {sentence!r}; but the run glued {shown}")


def check(glued: dict[str, object]) -> None:
    g = glued
    _claim(g["step_right"] <= g["step_bound"] + 1e-6 < min(g["step_before"], g["step_after"]),
           "Only the correct placement keeps the update within alpha * lambda = 0.05",
           right=g["step_right"], before=g["step_before"], after=g["step_after"])
    _claim(g["healthy_max"] < g["lambda_generous"] <= 1.1 * g["healthy_max"] + 0.5
           and g["healthy_clipped_share"] == 0.0,
           "lambda = x, ten percent above the largest norm rounded up to a half, which clips "
           "0% of the healthy steps", lam=g["lambda_generous"], max=g["healthy_max"],
           share=g["healthy_clipped_share"])
    _claim(g["bad_norm"] > 100 * g["healthy_median"],
           "more than a hundred times the median norm of a healthy step",
           bad_norm=g["bad_norm"], median=g["healthy_median"])
    _claim(g["bad_none_val_max"] < g["bad_clip_val_min"]
           and g["bad_clip_val"] >= g["healthy_val"] - 0.03,
           "Without clipping ... the runs end at x; with clipping ... as if nothing had "
           "happened", none=[g["bad_none_val_min"], g["bad_none_val_max"]],
           clip=[g["bad_clip_val_min"], g["bad_clip_val_max"]], healthy=g["healthy_val"])
    _claim(1 <= g["bad_clip_steps"] <= 3,
           "The threshold clipped x steps per run: the bad one and the odd step after it",
           steps=g["bad_clip_steps"])
    stats = g["clip_stats"]
    _claim(sum(v < 0.5 for v in stats["none"]["vals"]) >= 2,
           "most runs end in a state they never leave", vals=stats["none"]["vals"])
    _claim(g["generous_val"] < g["healthy_val"] - 0.3 and g["generous_clipped"] > 0,
           "The generous threshold does not rescue this rate",
           generous=g["generous_val"], healthy=g["healthy_val"])
    _claim(g["tight_val_min"] > 0.9 and g["tight_clipped"] > 0.5,
           "The tight threshold clips x% of the steps and trains",
           tight_min=g["tight_val_min"], clipped=g["tight_clipped"])
    _claim(g["value_val"] >= g["tight_val"] - g["tight_val_std"],
           "on this small problem it trains at least as well as norm clipping at 1",
           value=g["value_val"], tight=g["tight_val"], tight_std=g["tight_val_std"])
    _claim(g["value_cosine"] < 0.95 and min(g["tight_cosine"], g["generous_cosine"]) > 0.9999,
           "1 for norm clipping, which only rescales, x for value clipping, which bends",
           value=g["value_cosine"], tight=g["tight_cosine"])
    _claim(g["value_clipped"] > 0.9, "some coordinate is always above c",
           value_clipped=g["value_clipped"])
    _claim(0.8 < g["value_bound"] < 1.25,
           "the value threshold was chosen so that c sqrt(n) is about lambda = 1",
           bound=g["value_bound"])
