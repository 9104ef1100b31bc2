"""Hidden suite, a2 part 3: label smoothing and the smoothed cross-entropy (chapter 05_augment).

Label smoothing (Szegedy et al., 2016, "Rethinking the Inception Architecture for Computer
Vision") replaces the one-hot target by (1 - eps) onehot + eps / K.  Oracle: torch's
``F.cross_entropy(logits, target, label_smoothing=eps)`` in float64, which uses the same
convention (eps / K on every class, so the true class gets 1 - eps + eps / K), and
``F.cross_entropy`` with probability targets for soft (N, K) targets.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.grading.checks import (
    calling,
    check_all_finite,
    check_raises,
    check_scalar,
    check_tensor,
    check_unmodified,
)
from autograder.grading.suites.a2_regularization._support import call_text


def _labels(n: int, num_classes: int, device, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(num_classes, (n,), generator=generator).to(device)


def _logits(n: int, k: int, device, dtype=torch.float64, scale=3.0, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, k, generator=generator, dtype=torch.float64)).to(
        device=device, dtype=dtype)


def _smoothed(y: torch.Tensor, num_classes: int, eps: float) -> torch.Tensor:
    return (1 - eps) * torch.eye(num_classes, dtype=torch.float64)[y.cpu()] + eps / num_classes


def _check_targets(out, y: torch.Tensor, num_classes: int, eps: float) -> None:
    what = f"label_smoothing(y, num_classes={num_classes}, eps={eps})"
    out = check_tensor(out, what, shape=(len(y), num_classes), device=y.device)
    if not out.is_floating_point():
        raise AssertionError(f"{what} should return a floating-point tensor")
    tol = 1e-12 if out.dtype == torch.float64 else 1e-6
    got = out.detach().to("cpu", torch.float64)
    want = _smoothed(y, num_classes, eps)
    error = (got - want).abs().amax(dim=1)
    bad = ~(error <= tol)  # nan counts as wrong
    if bool(bad.any()):
        row = int(bad.nonzero()[0])
        shown = ", ".join(f"{v:.4g}" for v in got[row].tolist())
        expected = ", ".join(f"{v:.4g}" for v in want[row].tolist())
        raise AssertionError(
            f"{what} is wrong in {int(bad.sum())} of {len(y)} rows: the row for label "
            f"{int(y[row])} is [{shown}], expected [{expected}] = (1 - eps) * onehot(y) + "
            "eps / num_classes"
        )


# ----------------------------------------------------------------------------- label_smoothing
@pytest.mark.points(4, part="label_smoothing")
def test_label_smoothing_is_one_minus_eps_onehot_plus_eps_over_k(student, device):
    for n, k, eps in [(10, 3, 0.1), (16, 10, 0.25), (5, 2, 0.5)]:
        y = _labels(n, k, device, seed=k)
        _check_targets(student.label_smoothing(y, k, eps), y, k, eps)


@pytest.mark.points(2, part="label_smoothing")
def test_label_smoothing_eps_zero_is_one_hot_and_eps_one_is_uniform(student, device):
    y = _labels(12, 4, device, seed=1)
    for eps in (0.0, 1.0):
        _check_targets(student.label_smoothing(y, 4, eps), y, 4, eps)


@pytest.mark.points(1, part="label_smoothing")
def test_label_smoothing_keeps_the_device_and_works_for_one_label(student, device):
    y = torch.tensor([2], device=device)
    _check_targets(student.label_smoothing(y, 3, 0.3), y, 3, 0.3)
    y = _labels(7, 6, device, seed=2)
    _check_targets(student.label_smoothing(y, 6, 0.05), y, 6, 0.05)


@pytest.mark.points(1, part="label_smoothing")
def test_label_smoothing_raises_value_error_for_eps_outside_0_1(student, device):
    y = _labels(6, 3, device, seed=4)
    for eps in (-0.1, 1.001, 1.5):  # just outside [0, 1] too
        check_raises(lambda e=eps: student.label_smoothing(y, 3, e), "ValueError",
                     f"label_smoothing(y, 3, eps={eps})")


@pytest.mark.points(2, part="label_smoothing")
def test_label_smoothing_does_not_modify_its_input(student, device):
    y = _labels(10, 5, device, seed=3)
    check_unmodified(student.call("label_smoothing", y, 5, 0.1), "label_smoothing", ["y"])


# ----------------------------------------------------------------------------- smoothed CE
def _check_loss(student, logits: torch.Tensor, target: torch.Tensor, eps: float | None,
                label: str) -> None:
    """The loss is one finite number equal to torch's cross_entropy (float64) within tolerance.

    Only the value is graded here; dtype and device have their own test.
    """
    kwargs = {} if eps is None else {"eps": eps}
    call = call_text("smoothed_cross_entropy", logits, target, **kwargs)
    out = calling(call, student.smoothed_cross_entropy, logits, target, **kwargs)
    out = check_tensor(out, f"{call} ({label})")
    if out.numel() != 1:
        raise AssertionError(f"{call} should be the mean loss (one number), "
                             f"got shape {tuple(out.shape)}")
    expected = F.cross_entropy(logits.detach().to("cpu", torch.float64),
                               target.cpu().double() if target.is_floating_point() else
                               target.cpu(), label_smoothing=eps or 0.0)
    tol = 1e-10 if logits.dtype == torch.float64 else 1e-5
    check_scalar(out, expected.item(), f"{call} ({label})", rtol=tol, atol=tol)


@pytest.mark.points(3, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_without_smoothing_matches_cross_entropy(student, device):
    for n, k in [(16, 5), (1, 3), (40, 10)]:
        logits, y = _logits(n, k, device, seed=n), _labels(n, k, device, seed=n)
        _check_loss(student, logits, y, None, f"integer targets ({n} x {k}), default eps")
        _check_loss(student, logits, y, 0.0, f"integer targets ({n} x {k}), eps=0")


@pytest.mark.points(4, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_matches_cross_entropy_with_label_smoothing(student, device):
    for n, k, eps in [(16, 5, 0.1), (8, 10, 0.3), (20, 2, 0.5), (6, 4, 1.0)]:
        logits, y = _logits(n, k, device, seed=k), _labels(n, k, device, seed=k)
        _check_loss(student, logits, y, eps, f"integer targets ({n} x {k}), eps={eps}")


@pytest.mark.points(3, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_accepts_soft_targets_and_smooths_them_as_torch(student, device):
    for n, k, eps in [(12, 4, 0.0), (5, 7, 0.0), (9, 5, 0.2)]:
        logits = _logits(n, k, device, seed=30 + k)
        target = torch.softmax(_logits(n, k, device, seed=40 + k), dim=1)
        _check_loss(student, logits, target, eps, f"soft targets ({n} x {k}), eps={eps}")


@pytest.mark.points(1, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_of_one_hot_soft_targets_equals_integer_targets(student, device):
    logits, y = _logits(10, 6, device, seed=50), _labels(10, 6, device, seed=50)
    one_hot = torch.eye(6, dtype=torch.float64, device=device)[y]
    _check_loss(student, logits, one_hot, 0.0, "one-hot soft targets")


@pytest.mark.points(3, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_is_stable_for_logits_up_to_1e4(student, device):
    """Unsmoothed targets (no convention involved) match torch; smoothed ones stay finite."""
    for dtype in (torch.float64, torch.float32):
        logits = _logits(12, 5, device, dtype, scale=1e4, seed=60)
        logits[0] = torch.tensor([1e4, -1e4, 0.0, 5e3, -5e3], dtype=dtype, device=device)
        y = _labels(12, 5, device, seed=60)
        _check_loss(student, logits, y, 0.0, f"{str(dtype)[6:]} logits up to 1e4")
        for eps in (0.1, 0.5):
            out = student.smoothed_cross_entropy(logits, y, eps=eps)
            check_all_finite(out, call_text("smoothed_cross_entropy", logits, y, eps=eps)
                             + " with logits up to 1e4")


@pytest.mark.points(1, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_returns_a_scalar_with_the_logits_dtype_and_device(
        student, device):
    for dtype in (torch.float32, torch.float64):
        logits, y = _logits(8, 3, device, dtype, seed=70), _labels(8, 3, device, seed=70)
        out = student.smoothed_cross_entropy(logits, y, eps=0.1)
        check_tensor(out, call_text("smoothed_cross_entropy", logits, y, eps=0.1), shape=(),
                     dtype=dtype, device=device)


@pytest.mark.points(1, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_raises_value_error_for_eps_outside_0_1(student, device):
    logits, y = _logits(4, 3, device, seed=90), _labels(4, 3, device, seed=90)
    for eps in (-0.1, 1.001, 1.5):  # just outside [0, 1] too
        check_raises(lambda e=eps: student.smoothed_cross_entropy(logits, y, eps=e),
                     "ValueError", f"smoothed_cross_entropy(logits, target, eps={eps})")


@pytest.mark.points(2, part="smoothed_cross_entropy")
def test_smoothed_cross_entropy_does_not_modify_its_inputs(student, device):
    logits, y = _logits(8, 4, device, seed=80), _labels(8, 4, device, seed=80)
    info = student.call("smoothed_cross_entropy", logits, y, 0.2)
    check_unmodified(info, "smoothed_cross_entropy", ["logits", "target"])
    soft = torch.softmax(_logits(8, 4, device, seed=81), dim=1)
    info = student.call("smoothed_cross_entropy", logits, soft, 0.0)
    check_unmodified(info, "smoothed_cross_entropy", ["logits", "target"])
