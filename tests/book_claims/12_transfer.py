"""Claims of book/12_transfer.md checked against the numbers its run glued.

Accuracies are glued in percent. ``check`` raises AssertionError naming the sentence of the
chapter that the numbers contradict.
"""

from __future__ import annotations

import math

# how much better "better" must be: above the seed-to-seed spread of the chapter's runs
MARGIN = 3.0


def _num(glued: dict[str, object], name: str) -> float:
    value = glued[name]
    assert isinstance(value, int | float) and math.isfinite(value), (
        f"glued value {name!r} should be a finite number, got {value!r}"
    )
    return float(value)


def _ahead(glued, sentence: str, better: str, worse: str, margin: float = MARGIN) -> None:
    a, b = _num(glued, better), _num(glued, worse)
    assert a > b + margin, (
        f"ch 12 says {sentence!r}, but {better} = {a:.1f} % is not {margin} points above "
        f"{worse} = {b:.1f} %"
    )


def check(glued: dict[str, object]) -> None:
    g = glued
    # What the sweep shows
    for n in ("1", "10"):
        _ahead(g, "Pretraining helps most when labels are fewest", f"sim_probe_{n}",
               f"sim_scratch_{n}")
        _ahead(g, "the pretrained features themselves carry the gain", f"sim_probe_{n}",
               f"sim_random_{n}")
    assert _num(g, "sim_scratch_1") < 30, (
        f"ch 12 says training from scratch on one label per class is near chance (20 %), got "
        f"{g['sim_scratch_1']}"
    )
    for n in ("1", "10"):
        probe, top, every = (_num(g, f"sim_{k}_{n}") for k in ("probe", "top", "all"))
        assert probe > top > every, (
            f"ch 12 says 'With the fewest labels the rigid probe is ahead of the flexible "
            f"methods': at {n} per class probe {probe:.1f}, fine-tune top {top:.1f}, "
            f"fine-tune all {every:.1f}"
        )
    every, top, probe, scratch = (_num(g, f"sim_{k}_all")
                                  for k in ("all", "top", "probe", "scratch"))
    assert every > top > probe > scratch, (
        "ch 12 says 'With many labels, fine-tuning wins' (all > top > probe) and 'Training from "
        f"scratch is still behind': all {every:.1f}, top {top:.1f}, probe {probe:.1f}, "
        f"scratch {scratch:.1f}"
    )
    assert probe < _num(g, "sim_lora_all") < every, (
        "ch 12 says 'LoRA, with all labels, sits between the probe and full fine-tuning': "
        f"probe {probe:.1f}, LoRA {g['sim_lora_all']}, fine-tune all {every:.1f}"
    )

    # the two-by-two table
    table = g["table"]
    assert isinstance(table, dict), f"glued 'table' should be a dict, got {table!r}"
    cell = table["similar/little"]
    assert max(cell, key=cell.get) == "linear probe" and cell["linear probe"] > (
        cell["scratch"] + MARGIN), (
        f"ch 12 says 'Similar data, little of it. The frozen features with a linear classifier "
        f"are the right tool', but the cell is {cell}"
    )
    cell = table["similar/much"]
    assert cell["fine-tune all"] > cell["linear probe"] and cell["fine-tune top"] > (
        cell["linear probe"]) and max(cell, key=cell.get) == "fine-tune all", (
        f"ch 12 says 'Similar data, a lot of it ... fine-tuning the top and all of it beat the "
        f"frozen probe', but the cell is {cell}"
    )
    best_different, best_similar = (max(table[f"{d}/little"].values())
                                    for d in ("different", "similar"))
    assert best_different < best_similar - 15, (
        "ch 12 says 'Different data, little of it ... nothing works well', but the best method "
        f"reaches {best_different:.1f} % against {best_similar:.1f} % on similar data"
    )
    cell = table["different/much"]
    assert cell["fine-tune all"] > cell["fine-tune top"] + MARGIN > (
        cell["linear probe"] + 2 * MARGIN), (
        f"ch 12 says 'Different data, a lot of it. The frozen probe is now far behind, and the "
        f"more layers are trained the better', but the cell is {cell}"
    )
    assert cell["scratch"] > cell["fine-tune all"] - MARGIN, (
        f"ch 12 says 'At the limit this is training from scratch ... pretraining has nothing to "
        f"offer', but scratch {cell['scratch']:.1f} % is far below fine-tuning all "
        f"{cell['fine-tune all']:.1f} %"
    )

    # BatchNorm in eval mode
    gap_small, gap_mid, gap_large = (_num(g, f"bn_gap_{b}") for b in g["bn_batches"])
    assert gap_small > MARGIN, (
        f"ch 12 says 'With batches of 4 images, eval mode is ahead', by {gap_small:.2f} points"
    )
    assert gap_small > gap_mid > gap_large and abs(gap_large) < 1.5, (
        "ch 12 says 'As the batch grows the gap shrinks, and with the whole training set as one "
        f"batch the two modes are level': gaps {gap_small:.2f}, {gap_mid:.2f}, {gap_large:.2f}"
    )
