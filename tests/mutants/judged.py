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
    # a2_regularization
    **{f"smoothed_cross_entropy-m{n:03d}": "1-D logits get class_dim 1 (dim() >= 1, dim() > 0"
       ", or 1 in the else branch) and raise IndexError; the notebook takes logits (N, K), "
       "where class_dim is 1 in both" for n in (4, 7, 17)},
    "smoothed_cross_entropy-m008": "class_dim 0 -> -1 for 1-D logits: the same dimension",
    **{f"smoothed_cross_entropy-m{n:03d}": "the check of class indices (or -> and, max > K, "
       "min < -1): differs only for indices outside [0, K), whose ValueError the notebook "
       "says is not graded (gather raises there)" for n in (20, 25, 31)},
    "mixup-m012": "y.shape[0] -> y.shape[-1]: the same for labels of shape (N,)",
    "cutmix-m017": "y.shape[0] -> y.shape[-1]: the same for labels of shape (N,)",
    **{f"{part}-m{n:03d}": "an index in the ValueError message for x and y of different "
       "lengths, a check the notebook says is not graded" for part, numbers in
       [("mixup", (21, 22, 23, 24)), ("cutmix", (49, 50, 51, 52))] for n in numbers},
    **{f"cutout-m{n:03d}": "size // 2 -> size / 2 in the corner: for an odd size the rows "
       "[c - size/2, c + size/2) are the integers c - size//2 .. c - size//2 + size - 1, for "
       "an even size the values are equal (exact in float32 below 2^23)" for n in (24, 25)},
    # a3_optim_schedules
    **{f"step_lr-m{n:03d}": "step_size == 0 no longer raises ValueError (ZeroDivisionError "
       "instead): step_lr's ValueErrors are not graded (the notebook)" for n in (1, 4)},
    "step_lr-m007": "_check_step's t < 0 -> t < -1: differs only at t = -1, outside the "
                    "schedules' domain t >= 0 (step_lr's ValueErrors are not graded)",
    **{f"linear_scaling_rule-m{n:03d}": "a batch size of 0 (or below) no longer raises "
       "ValueError: linear_scaling_rule's ValueErrors are not graded (the notebook)"
       for n in (2, 3, 4, 7, 9)},
    **{f"linear_lr-m{n:03d}": "total_steps == 0 no longer raises ValueError: linear_lr's "
       "ValueErrors are not graded (the notebook)" for n in (1, 4)},
    "cosine_lr-m002": "t >= T -> t > T: at t == T the formula gives min_lr + (base - min_lr) * "
                      "(1 + cos(pi)) / 2 = min_lr exactly (cos(pi * T / T) == -1.0)",
    "linear_lr-m002": "t >= T -> t > T: at t == T the closed form base + (min - base) * T / T"
                      " is min_lr up to rounding (within 1.5 ulp of base_lr, measured), as "
                      "any correct closed form without the branch; only a sub-ulp test tells "
                      "them apart, and it would fail such correct code",
    "cosine_restarts_lr-m009": "T_mult == 1 -> == 0: T_mult = 1 takes the loop, which "
                               "subtracts T_0 until t_cur < T_0, the same t % T_0 (only "
                               "slower, O(t / T_0))",
    "clip_grad_norm-m004": "grads[0].device -> grads[-1].device: the same device for any list "
                           "of gradients on one device (a list spread over devices has no "
                           "device the contract could keep)",
}

UNDETECTED = {
    "dropout-m003": "keep = rand >= p -> rand > p: also drops the elements whose float32 "
                    "uniform draw equals p exactly, probability at most 2^-24 (6e-8) per "
                    "element: about 2^48 samples to see",
    "xavier_normal_-m004": "2.0 -> 2.02 in the variance: the std 0.5 % too large, below what "
                           "2^20 samples show at a failure probability of 1e-9 (+-0.45 % on "
                           "the std); 2^22 float32 samples would catch it, but that fill costs "
                           "0.13-0.15 CPU-s through the sandbox against 0.04 (measured), +0.1 "
                           "CPU-s per device on a1's 0.74, and float16 (half the bytes) is not "
                           "convention-neutral (a half-precision Box-Muller truncates the tails)",
}
