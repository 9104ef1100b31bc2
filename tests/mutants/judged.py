"""Surviving mutants a person has judged, by mutant id (part and site number of tests/mutants).

``EQUIVALENT``: no input the contract allows tells the mutant from the solution, so no suite can
kill it.  ``UNDETECTED``: a real deviation that the suite's statistical power (or its inputs)
cannot see; listed so that nobody mistakes it for equivalent.  An id goes stale when the
solution cell changes; bench/bench_mutants.py reports survivors that are in neither table.
"""

from __future__ import annotations

EQUIVALENT = {
    "sigmoid-m001": "x >= 0 -> x > 0: at x == 0 both branches give 1/(1+1) = 1/(1+1) = 0.5",
    "elu-m001": "x > 0 -> x >= 0: at x == 0 both branches give 0 (x and alpha * expm1(0))",
    "leaky_relu-m001": "x > 0 -> x >= 0: at x == 0 both branches give 0 (x and slope * 0)",
    "tanh-m003": "-expm1 -> +expm1: copysign(magnitude, x) ignores the magnitude's sign",
    "elu-m005": "clamp(x, max=0) -> max=1: the branch is used only where x <= 0, where both "
                "clamps return x; the discarded branch stays finite (expm1(1))",
    "elu_backward-m006": "clamp(x, max=0) -> max=1 in the x <= 0 branch: same values there, the "
                         "discarded branch stays finite (exp(1))",
}

UNDETECTED = {
    "xavier_normal_-m004": "2.0 -> 2.02 in the variance: the std 0.5 % too large, below what "
                           "2^20 samples show at a failure probability of 1e-9 (+-0.45 % on "
                           "the std); 4x the samples would catch it",
}
