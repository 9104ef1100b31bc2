"""Hidden suite, a2 part 2: mixup, CutMix and Cutout (chapter 05_augment).

mixup (Zhang et al., 2018, "mixup: Beyond Empirical Risk Minimization"), CutMix (Yun et al.,
2019, "CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features")
and Cutout (DeVries and Taylor, 2017, "Improved Regularization of Convolutional Neural Networks
with Cutout") are random, so the suite checks what the contract fixes and nothing else:

- mixup: one lam for the batch, x_mixed[i] = lam x[i] + (1 - lam) x[pi(i)] for *some*
  permutation pi (recovered from the output, so randperm, roll or flip all pass), y_soft mixed with
  the same pi and lam, lam ~ Beta(alpha, alpha) (mean and spread within Hoeffding bounds that a
  correct solution leaves with probability below 1e-9), lam = 1 for alpha <= 0;
- CutMix: one rectangle for the batch, filled from x[pi(i)], everything else untouched, lam equal
  to the kept area exactly, labels mixed with that lam;
- Cutout: per image one size x size square of zeros (clipped at the border), its centre anywhere
  in the image, everything else untouched, reproducible with the generator.

Inputs hold distinct continuous values, so the permutation and the boxes are unambiguous.
"""

from __future__ import annotations

import weakref

import pytest
import torch

from autograder.grading.checks import (
    as_number,
    check_close,
    check_raises,
    check_tensor,
    check_unmodified,
    describe,
    hoeffding_halfwidth,
    pixel_box,
)
from autograder.grading.suites.a2_regularization._support import HALF_DTYPES, call_text

NUM_CLASSES = 5


def _batch(shape, device, dtype=torch.float64, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator, dtype=torch.float64)
    y = torch.randint(NUM_CLASSES, (shape[0],), generator=generator)
    return x.to(device=device, dtype=dtype), y.to(device)


def _one_hot(y: torch.Tensor) -> torch.Tensor:
    return torch.eye(NUM_CLASSES, dtype=torch.float64)[y.cpu()]


def _unpack(result, name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(x_mixed, y_soft, lam) as float64 CPU tensors and a float: shapes checked, lam in [0, 1].

    The dtype and device are graded by their own tests (``..._keep_the_dtype_and_device``),
    so a dtype slip costs those points only.
    """
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise AssertionError(f"{name} should return a tuple (x_mixed, y_soft, lam), "
                             f"got {describe(result)}")
    x_mixed, y_soft, lam = result
    check_tensor(x_mixed, f"x_mixed returned by {name}", shape=x.shape)
    check_tensor(y_soft, f"y_soft returned by {name}", shape=(x.shape[0], NUM_CLASSES))
    value = as_number(lam, f"the lam returned by {name} (one lam per batch)")
    if not 0.0 <= value <= 1.0:
        raise AssertionError(f"the lam returned by {name} should lie in [0, 1], got {value:.4g}")
    return (x_mixed.detach().to("cpu", torch.float64), y_soft.detach().to("cpu", torch.float64),
            value)


def _check_dtype_and_device(student, name: str, shape, device) -> None:
    """x_mixed and y_soft have x's dtype and device, half precision included."""
    for dtype in (torch.float64, torch.float32, *HALF_DTYPES):
        x, y = _batch(shape, device, dtype)
        result = getattr(student, name)(x, y, NUM_CLASSES)
        x_mixed, y_soft, _ = result if isinstance(result, tuple | list) and len(result) == 3 \
            else _unpack(result, name, x)
        call = call_text(name, x, y, NUM_CLASSES)
        check_tensor(x_mixed, f"x_mixed returned by {call}", dtype=dtype, device=x.device)
        check_tensor(y_soft, f"y_soft returned by {call}", dtype=dtype, device=x.device)


def _match_rows(candidates: torch.Tensor, x: torch.Tensor, tol: float) -> torch.Tensor | None:
    """Index j with candidates[i] == x[j] (within tol) for every i, or None if some row fails."""
    distance = torch.cdist(candidates, x)
    best = distance.argmin(dim=1)
    scale = 1 + x.abs().max()
    if not bool((distance[torch.arange(len(x)), best] <= tol * scale).all()):  # nan: wrong
        return None
    return best


def _check_permutation(pi: torch.Tensor, what: str) -> None:
    if sorted(pi.tolist()) != list(range(len(pi))):
        raise AssertionError(f"{what}: the images are not paired by a permutation of the batch")
    if torch.equal(pi, torch.arange(len(pi))):
        raise AssertionError(f"{what}: every image is mixed with itself (pi is the identity)")


def _check_labels(y_soft: torch.Tensor, y: torch.Tensor, pi: torch.Tensor | None, lam: float,
                  name: str) -> None:
    one_hot = _one_hot(y)
    partner = one_hot if pi is None else one_hot[pi]
    expected = lam * one_hot + (1 - lam) * partner
    error = (y_soft - expected).abs().amax(dim=1)
    if bool((error > 1e-6).any()) or not bool(torch.isfinite(y_soft).all()):
        row = int(torch.where(torch.isfinite(error), error, torch.full_like(error, 9.0)).argmax())
        got = ", ".join(f"{v:.4g}" for v in y_soft[row].tolist())
        want = ", ".join(f"{v:.4g}" for v in expected[row].tolist())
        raise AssertionError(
            f"y_soft returned by {name} (lam = {lam:.4g}) is wrong in {int((error > 1e-6).sum())}"
            f" of {len(y)} rows; row {row} is [{got}], expected [{want}] = lam * onehot(y[i]) + "
            "(1 - lam) * onehot(y[pi(i)]) with the returned lam and the images' pairing pi"
        )


def _check_reproducible(student, name: str, batch) -> None:
    """The same generator state gives the same output; other seeds give another output."""
    x, y = batch

    def run(seed: int):
        generator = torch.Generator(device=x.device).manual_seed(seed)
        return _unpack(getattr(student, name)(x, y, NUM_CLASSES, alpha=1.0, generator=generator),
                       name, x)

    first, again = run(5), run(5)
    if not (torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
            and first[2] == again[2]):
        raise AssertionError(
            f"{name} gives different outputs for two generators in the same state; draw every "
            "random number (lam and the permutation) from `generator`"
        )
    others = [run(seed) for seed in (6, 7, 8)]
    if all(torch.equal(first[0], o[0]) and first[2] == o[2] for o in others):
        raise AssertionError(f"{name} gives the same output for differently seeded generators")


def _check_default_alpha(student, name: str, batch) -> None:
    """The default alpha is 1: with the same generator state, leaving alpha out and passing
    alpha=1.0 give the same output (a correct solution draws the same numbers both times)."""
    x, y = batch
    for seed in (5, 6):
        outputs = []
        for kwargs in ({}, {"alpha": 1.0}):
            generator = torch.Generator(device=x.device).manual_seed(seed)
            outputs.append(_unpack(getattr(student, name)(
                x, y, NUM_CLASSES, generator=generator, **kwargs), name, x))
        (x_default, y_default, lam_default), (x_one, y_one, lam_one) = outputs
        if not (lam_default == lam_one and torch.equal(x_default, x_one)
                and torch.equal(y_default, y_one)):
            raise AssertionError(
                f"{call_text(name, x, y, NUM_CLASSES)} and the same call with alpha=1.0, each "
                f"given a generator seeded with {seed}, return different outputs (lam "
                f"{lam_default:.6g} and {lam_one:.6g}); the default alpha is 1.0"
            )


# ----------------------------------------------------------------------------- mixup
def _mixup_pairing(x: torch.Tensor, x_mixed: torch.Tensor, lam: float) -> torch.Tensor:
    """The permutation pi with x_mixed[i] = lam x[i] + (1 - lam) x[pi(i)] (lam not near 1)."""
    flat, mixed = x.reshape(len(x), -1), x_mixed.reshape(len(x), -1)
    partner = (mixed - lam * flat) / (1 - lam)
    pi = _match_rows(partner, flat, tol=1e-8)
    if pi is None:
        raise AssertionError(
            "mixup: the rows of x_mixed are not lam * x[i] + (1 - lam) * x[j] for the returned "
            "lam (use one lam for the whole batch)"
        )
    _check_permutation(pi, "mixup")
    return pi


def _mixup_with_informative_lam(student, x, y, alpha=1.0):
    """A mixup result whose lam is in [0.05, 0.95], trying generator seeds 0, 1, ...

    With alpha = 1 each try misses with probability 0.1, so 20 misses happen with 1e-20.
    """
    for seed in range(20):
        generator = torch.Generator(device=x.device).manual_seed(seed)
        x_mixed, y_soft, lam = _unpack(
            student.mixup(x, y, NUM_CLASSES, alpha=alpha, generator=generator), "mixup", x)
        if 0.05 <= lam <= 0.95:
            return x_mixed, y_soft, lam
    raise AssertionError("mixup with alpha=1.0 returned lam outside [0.05, 0.95] 20 times in a row")


@pytest.mark.points(1, part="mixup")
def test_mixup_returns_mixed_batch_soft_labels_and_one_lam(student, device):
    for shape in [(16, 8), (16, 3, 4, 4), (16,)]:
        x, y = _batch(shape, device)
        _unpack(student.mixup(x, y, NUM_CLASSES), "mixup", x)


@pytest.mark.points(1, part="mixup")
def test_mixup_outputs_keep_the_dtype_and_device_of_x(student, device):
    _check_dtype_and_device(student, "mixup", (12, 3, 4, 4), device)


@pytest.mark.points(5, part="mixup")
def test_mixup_rows_are_convex_combinations_with_a_permutation_of_the_batch(student, device):
    for shape in [(16, 8), (12, 3, 4, 4), (10,)]:
        x, y = _batch(shape, device, seed=1)
        x_mixed, _, lam = _mixup_with_informative_lam(student, x, y)
        _mixup_pairing(x.cpu(), x_mixed, lam)


@pytest.mark.points(4, part="mixup")
def test_mixup_soft_labels_use_the_same_permutation_and_lam(student, device):
    x, y = _batch((16, 6), device, seed=2)
    x_mixed, y_soft, lam = _mixup_with_informative_lam(student, x, y)
    pi = _mixup_pairing(x.cpu(), x_mixed, lam)
    _check_labels(y_soft, y, pi, lam, "mixup")


@pytest.mark.points(2.5, part="mixup")
def test_mixup_lam_follows_a_beta_alpha_alpha_distribution(student, device):
    """Beta(0.2, 0.2): mean 1/2, E[(lam - 1/2)^2] = 1 / (4 (2 alpha + 1)) = 0.179.

    A uniform lam gives 0.083 and max(lam, 1 - lam) a mean of 0.89, both far outside the bounds.
    """
    alpha, n = 0.2, 200
    x, y = _batch((2, 1), device, seed=3)
    lams = []
    for seed in range(n):
        generator = torch.Generator(device=device).manual_seed(1000 + seed)
        lams.append(_unpack(student.mixup(x, y, NUM_CLASSES, alpha=alpha, generator=generator),
                            "mixup", x)[2])
    lam = torch.tensor(lams, dtype=torch.float64)
    if abs(lam.mean().item() - 0.5) > hoeffding_halfwidth(n, 1.0):
        raise AssertionError(
            f"mixup's lam has mean {lam.mean().item():.3f} over {n} draws with alpha={alpha}; "
            "lam ~ Beta(alpha, alpha) has mean 1/2"
        )
    spread = (lam - 0.5).pow(2).mean().item()
    if abs(spread - 1 / (4 * (2 * alpha + 1))) > hoeffding_halfwidth(n, 0.25):
        raise AssertionError(
            f"mixup's lam does not follow Beta(alpha, alpha) with alpha={alpha}: over {n} draws "
            "its spread around 1/2 is wrong"
        )


@pytest.mark.points(1, part="mixup")
def test_mixup_with_alpha_at_most_zero_returns_lam_one_and_the_batch_unchanged(student, device):
    x, y = _batch((8, 5), device, seed=4)
    for alpha in (0.0, -1.0):
        x_mixed, y_soft, lam = _unpack(student.mixup(x, y, NUM_CLASSES, alpha=alpha), "mixup", x)
        if lam != 1.0:
            raise AssertionError(f"mixup with alpha={alpha} should return lam = 1")
        check_close(x_mixed, x.cpu(), f"x_mixed for alpha={alpha}", rtol=0, atol=0)
        _check_labels(y_soft, y, None, 1.0, f"mixup with alpha={alpha}")


@pytest.mark.points(1, part="mixup")
def test_mixup_same_generator_state_gives_the_same_output(student, device):
    _check_reproducible(student, "mixup", _batch((10, 6), device, seed=9))


@pytest.mark.points(0.5, part="mixup")
def test_mixup_default_alpha_is_one(student, device):
    _check_default_alpha(student, "mixup", _batch((10, 6), device, seed=9))


@pytest.mark.points(2, part="mixup")
def test_mixup_does_not_modify_its_inputs(student, device):
    x, y = _batch((8, 5), device, seed=5)
    for args in [(), (1.0,), (0.0,), (0.4, torch.Generator(device=device).manual_seed(1))]:
        check_unmodified(student.call("mixup", x, y, NUM_CLASSES, *args),
                         call_text("mixup", x, y, NUM_CLASSES, *args[:1]), ["x", "y"])


# ----------------------------------------------------------------------------- cutmix
def _cutmix_box(x: torch.Tensor, x_mixed: torch.Tensor, lam: float):
    """Check one CutMix output; return (pi or None, box or None).

    The changed pixels (over the batch and the channels) must form one rectangle, in which every
    image holds the pixels of another image of the batch, paired by a permutation; the returned
    lam must be the fraction of the image outside the rectangle.
    """
    n, _, h, w = x.shape
    changed = (x_mixed != x).any(dim=0).any(dim=0)
    box = pixel_box(changed)
    if box is None:
        if lam != 1.0:
            raise AssertionError(
                "cutmix: no pixel changed but lam < 1; paste the box from other images of the "
                "batch (a permutation pi), and return lam = kept area fraction"
            )
        return None, None
    top, bottom, left, right = box
    inside = torch.zeros(h, w, dtype=torch.bool)
    inside[top:bottom, left:right] = True
    if not torch.equal(changed, inside):
        raise AssertionError(
            "cutmix: the changed pixels do not form one rectangle shared by the whole batch"
        )
    region = x_mixed[:, :, top:bottom, left:right].reshape(n, -1)
    source = x[:, :, top:bottom, left:right].reshape(n, -1)
    pi = _match_rows(region, source, tol=1e-12)
    if pi is None:
        raise AssertionError(
            "cutmix: the box of some image does not hold the same box of another image"
        )
    _check_permutation(pi, "cutmix")
    return pi, box


def _cutmix_calls(student, device, shape, seeds=range(8), alpha=1.0):
    """Run cutmix for several generator seeds; yield (x, y, x_mixed, y_soft, lam, pi, box)."""
    x, y = _batch(shape, device, seed=6)
    nonempty = 0
    for seed in seeds:
        generator = torch.Generator(device=device).manual_seed(seed)
        result = student.cutmix(x, y, NUM_CLASSES, alpha=alpha, generator=generator)
        x_mixed, y_soft, lam = _unpack(result, "cutmix", x)
        pi, box = _cutmix_box(x.cpu().double(), x_mixed, lam)
        nonempty += box is not None
        yield x, y, x_mixed, y_soft, lam, pi, box
    if nonempty == 0:
        raise AssertionError(f"cutmix with alpha={alpha} never pasted a box in {len(seeds)} calls")


@pytest.mark.points(1, part="cutmix")
def test_cutmix_returns_mixed_batch_soft_labels_and_one_lam(student, device):
    x, y = _batch((8, 3, 10, 10), device)
    _unpack(student.cutmix(x, y, NUM_CLASSES), "cutmix", x)


@pytest.mark.points(1, part="cutmix")
def test_cutmix_outputs_keep_the_dtype_and_device_of_x(student, device):
    _check_dtype_and_device(student, "cutmix", (8, 3, 10, 10), device)


@pytest.mark.points(4, part="cutmix")
def test_cutmix_pastes_one_box_from_a_permutation_of_the_batch(student, device):
    for shape in [(16, 2, 12, 12), (12, 3, 10, 16)]:
        for _ in _cutmix_calls(student, device, shape):
            pass


@pytest.mark.points(3, part="cutmix")
def test_cutmix_lam_is_exactly_the_kept_area_fraction(student, device):
    for shape in [(16, 2, 12, 12), (12, 3, 10, 16)]:
        _, _, h, w = shape
        for *_, lam, _, box in _cutmix_calls(student, device, shape):
            area = 0 if box is None else (box[1] - box[0]) * (box[3] - box[2])
            if abs(lam - (1 - area / (h * w))) > 1e-9:
                raise AssertionError(
                    f"cutmix returned lam = {lam:.6f} but the box covers {area} of {h * w} "
                    "pixels; lam must be 1 - box area / (H * W) after clipping the box"
                )


@pytest.mark.points(3, part="cutmix")
def test_cutmix_soft_labels_mix_with_the_kept_area_and_the_same_permutation(student, device):
    for _, y, _, y_soft, lam, pi, _ in _cutmix_calls(student, device, (16, 2, 12, 12)):
        _check_labels(y_soft, y, pi, lam, "cutmix")


# A lam pinned near 1/2: Beta(alpha, alpha) is sub-Gaussian with variance proxy 1/(4 (2 alpha + 1))
# (Marchal and Arbel, 2017, "On the sub-Gaussianity of the Beta and Dirichlet distributions"), so
# with alpha = 1e4, P(|lam - 1/2| > 0.05) <= 2 exp(-0.05^2 * 2 (2 alpha + 1)) = 2 exp(-100).  For
# lam in [0.45, 0.55] a SIDE x SIDE image gets a box of int(6 sqrt(1 - lam)) = 4 rows and columns
# (4.02 to 4.45: int, round and the paper's 2 * (cut // 2) all give 4).
PINNED_ALPHA, SIDE, PINNED_BOX, PINNED_CALLS = 1e4, 6, 4, 55
_PINNED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pinned_boxes(student, device) -> tuple[str, list]:
    """The bounding box of the changed pixels of PINNED_CALLS cutmix calls with lam near 1/2.

    16 images (a permutation of 16 with no image moved has probability 1/16! = 5e-14), one
    channel, distinct values: a pixel changes exactly where the box pasted another image.
    Only the box is looked at; the pairing and lam have their own tests.  None: no box.  The
    calls are made once per submission and device and read by the two tests of the box.
    """
    cached = _PINNED.setdefault(student, {})
    if str(device) not in cached:
        x, y = _batch((16, 1, SIDE, SIDE), device, seed=30)
        boxes = []
        for seed in range(PINNED_CALLS):
            generator = torch.Generator(device=device).manual_seed(seed)
            x_mixed, _, _ = _unpack(student.cutmix(x, y, NUM_CLASSES, alpha=PINNED_ALPHA,
                                                   generator=generator), "cutmix", x)
            boxes.append(pixel_box((x_mixed != x.cpu().double()).any(dim=0).any(dim=0)))
        cached[str(device)] = (call_text("cutmix", x, y, NUM_CLASSES, alpha=PINNED_ALPHA),
                               boxes)
    return cached[str(device)]


@pytest.mark.points(1.5, part="cutmix")
def test_cutmix_box_sides_are_int_h_and_w_times_sqrt_one_minus_lam(student, device):
    """With lam pinned near 1/2 the box is 4 x 4 on a 6 x 6 image: clipping at the border only
    shortens a side, and a centre drawn uniformly leaves a side unclipped with probability 1/2
    (a box placed inside the image: always), so 55 calls never show the full height, or the
    full width, with probability below 2 * 2^-55."""
    call, boxes = _pinned_boxes(student, device)
    for axis, (start, end) in [("height", (0, 1)), ("width", (2, 3))]:
        sides = [0 if box is None else box[end] - box[start] for box in boxes]
        if max(sides) > PINNED_BOX:
            raise AssertionError(
                f"{call} pasted a box of {axis} {max(sides)} on a {SIDE} x {SIDE} image with "
                f"lam near 0.5; the box's {axis} is int({SIDE} * sqrt(1 - lam)) = {PINNED_BOX}"
                ", less only where the border clips it"
            )
        if max(sides) < PINNED_BOX:
            raise AssertionError(
                f"{call} never pasted a box of the full {axis} int({SIDE} * sqrt(1 - lam)) = "
                f"{PINNED_BOX} in {len(boxes)} calls with lam near 0.5 (the largest was "
                f"{max(sides)}); size the box from the sampled lam before clipping it"
            )


@pytest.mark.points(1, part="cutmix")
def test_cutmix_box_centre_is_uniform_so_boxes_reach_every_border(student, device):
    """A 4 x 4 box on a 6 x 6 image, centre uniform over the pixels: it reaches the top row with
    probability 1/2 per call and each other border with 1/3 (a box placed uniformly inside
    the image: 1/3 each), so 55 calls miss some border with probability below
    4 (2/3)^55 = 8e-10."""
    call, boxes = _pinned_boxes(student, device)
    found = [box for box in boxes if box is not None]
    for border, reached in [("top row", lambda b: b[0] == 0),
                            ("bottom row", lambda b: b[1] == SIDE),
                            ("left column", lambda b: b[2] == 0),
                            ("right column", lambda b: b[3] == SIDE)]:
        if not any(reached(box) for box in found):
            raise AssertionError(
                f"no box of {len(boxes)} calls of {call} reached the {border} of the {SIDE} x "
                f"{SIDE} images; the box's centre is uniform over the image (torch.randint), "
                "and the box is clipped where it crosses the border"
            )


@pytest.mark.points(1, part="cutmix")
def test_cutmix_with_alpha_at_most_zero_returns_lam_one_and_the_batch_unchanged(
        student, device):
    x, y = _batch((8, 2, 8, 8), device, seed=7)
    for alpha in (0.0, -1.0):
        x_mixed, y_soft, lam = _unpack(student.cutmix(x, y, NUM_CLASSES, alpha=alpha),
                                       "cutmix", x)
        if lam != 1.0:
            raise AssertionError(f"cutmix with alpha={alpha} should return lam = 1")
        check_close(x_mixed, x.cpu(), f"x_mixed for alpha={alpha}", rtol=0, atol=0)
        _check_labels(y_soft, y, None, 1.0, f"cutmix with alpha={alpha}")


@pytest.mark.points(1, part="cutmix")
def test_cutmix_same_generator_state_gives_the_same_output(student, device):
    _check_reproducible(student, "cutmix", _batch((10, 2, 12, 12), device, seed=10))


@pytest.mark.points(0.5, part="cutmix")
def test_cutmix_default_alpha_is_one(student, device):
    """Wide images: the box width int(W sqrt(1 - lam)), and so the returned lam, shows a
    small change of lam."""
    _check_default_alpha(student, "cutmix", _batch((4, 1, 2, 1024), device, seed=10))


@pytest.mark.points(1, part="cutmix")
def test_cutmix_raises_value_error_for_images_that_are_not_4d(student, device):
    for shape in [(8, 12, 12), (8, 2, 3, 12, 12)]:
        x, y = _batch(shape, device, seed=11)
        check_raises(lambda x=x, y=y: student.cutmix(x, y, NUM_CLASSES), "ValueError",
                     f"cutmix of a tensor of shape {shape}")


@pytest.mark.points(2, part="cutmix")
def test_cutmix_does_not_modify_its_inputs(student, device):
    x, y = _batch((8, 2, 12, 12), device, seed=8)
    for seed in range(3):  # a box may be empty for one lam; three calls all empty: P < 1e-5
        generator = torch.Generator(device=device).manual_seed(seed)
        info = student.call("cutmix", x, y, NUM_CLASSES, 1.0, generator)
        check_unmodified(info, "cutmix", ["x", "y"])


# ----------------------------------------------------------------------------- cutout
def _positive_images(shape, device, dtype=torch.float64, seed=0) -> torch.Tensor:
    """Values in [1, 2): a zero in the output can only come from the cut-out square."""
    generator = torch.Generator().manual_seed(seed)
    x = 1 + torch.rand(shape, generator=generator, dtype=torch.float64)
    return x.to(device=device, dtype=dtype)


def _cutout_squares(x: torch.Tensor, out, size: int,
                    clipped_sides: bool = False) -> list[tuple[int, int, int, int]]:
    """Check every image of a cutout output; return each image's zeroed box.

    ``clipped_sides``: also check that a square clipped at the border keeps what its centre,
    inside the image, implies (the test of the clipped squares only).
    """
    out = check_tensor(out, f"cutout(x, {size})", shape=x.shape, dtype=x.dtype, device=x.device)
    out, x = out.to("cpu", torch.float64), x.to("cpu", torch.float64)
    _, _, h, w = x.shape
    boxes = []
    for image, original in zip(out, x, strict=True):
        zero = image == 0
        if not torch.equal(zero.all(dim=0), zero.any(dim=0)):
            raise AssertionError("cutout should zero the same square in every channel")
        if not torch.equal(image[~zero], original[~zero]):
            raise AssertionError("cutout changed pixels outside the square")
        box = pixel_box(zero[0])
        if box is None:
            raise AssertionError("cutout left an image without a zeroed square")
        top, bottom, left, right = box
        if not bool(zero[0, top:bottom, left:right].all()):
            raise AssertionError("cutout's zeroed pixels do not form one rectangle")
        for start, end, extent, axis in [(top, bottom, h, "height"), (left, right, w, "width")]:
            length = end - start
            clipped = start == 0 or end == extent
            if length > size or (not clipped and length != size):
                raise AssertionError(
                    f"cutout(x, size={size}) zeroed a square of {axis} {length}; it should be "
                    f"{size} (less only where the square is clipped at the border)"
                )
            # the square's centre lies in the image, so clipping keeps at least size // 2
            # (the notebook's rows c - size // 2 ... keep size // 2 + 1 at the far border)
            if clipped_sides and length < min(size // 2, extent):
                raise AssertionError(
                    f"cutout(x, size={size}) zeroed a square clipped to {axis} {length} at the "
                    f"border; its centre lies in the image, so it keeps at least size // 2 = "
                    f"{size // 2} (rows c - size // 2 to c - size // 2 + size - 1 of a centre c)"
                )
        boxes.append(box)
    return boxes


@pytest.mark.points(1, part="cutout")
def test_cutout_keeps_shape_dtype_and_device(student, device):
    for dtype in (torch.float32, torch.float64, *HALF_DTYPES):
        for shape in [(4, 3, 10, 12), (3, 10, 12), (0, 3, 10, 12)]:
            x = _positive_images(shape, device, dtype)
            check_tensor(student.cutout(x, 4), call_text("cutout", x, 4), shape=x.shape,
                         dtype=dtype, device=device)


@pytest.mark.points(4, part="cutout")
def test_cutout_zeroes_one_size_by_size_square_per_image_clipped_at_the_border(
        student, device):
    for shape, size in [((64, 3, 16, 16), 8), ((64, 2, 12, 20), 5), ((32, 1, 9, 9), 1)]:
        x = _positive_images(shape, device, seed=size)
        _cutout_squares(x, student.cutout(x, size), size, clipped_sides=True)


@pytest.mark.points(2, part="cutout")
def test_cutout_centres_vary_per_image_and_cover_the_whole_image(student, device):
    """With a uniform centre on a 16 x 16 image and size 8, a square misses the border with
    probability 81/256; among 64 images none clipped or all clipped happens with P < 1e-10."""
    x = _positive_images((64, 3, 16, 16), device, seed=20)
    boxes = _cutout_squares(x, student.cutout(x, 8), 8)
    if len(set(boxes)) == 1:
        raise AssertionError("cutout put the square at the same place in every image")
    # clipped: a side shorter than the size (touching the border without losing rows is not)
    clipped = [b[1] - b[0] < 8 or b[3] - b[2] < 8 for b in boxes]
    if all(clipped):
        raise AssertionError("cutout clipped every square; the centre is uniform in the image")
    if not any(clipped):
        raise AssertionError(
            "cutout never clipped a square at the border; the centre should be uniform over "
            "the whole image, so squares near the border are cut off"
        )


@pytest.mark.points(1, part="cutout")
def test_cutout_with_a_square_twice_the_image_zeroes_everything(student, device):
    x = _positive_images((6, 2, 7, 9), device, seed=21)
    out = check_tensor(student.cutout(x, 18), "cutout(x, 18)", shape=x.shape)
    if not bool((out == 0).all()):
        raise AssertionError("cutout with size = 2 * image size should zero every pixel")


@pytest.mark.points(1, part="cutout")
def test_cutout_same_generator_state_gives_the_same_squares(student, device):
    x = _positive_images((16, 3, 16, 16), device, seed=22)

    def run(seed: int) -> torch.Tensor:
        generator = torch.Generator(device=device).manual_seed(seed)
        return check_tensor(student.cutout(x, 6, generator=generator), "cutout(x, 6, g)",
                            shape=x.shape)

    first, again, other = run(3), run(3), run(4)
    if not torch.equal(first, again):
        raise AssertionError(
            "cutout gives different squares for two generators in the same state; "
            "draw the centres with `generator`"
        )
    if torch.equal(first, other):
        raise AssertionError("cutout gives the same squares for differently seeded generators")


@pytest.mark.points(1, part="cutout")
def test_cutout_size_zero_changes_nothing_and_negative_size_raises_value_error(student, device):
    x = _positive_images((4, 2, 8, 8), device, seed=24)
    out = check_tensor(student.cutout(x, 0), "cutout(x, 0)", shape=x.shape, dtype=x.dtype)
    if not torch.equal(out.cpu(), x.cpu()):
        raise AssertionError("cutout(x, 0) should return the images unchanged")
    for size in (-1, -2):
        check_raises(lambda s=size: student.cutout(x, s), "ValueError", f"cutout(x, {size})")


@pytest.mark.points(2, part="cutout")
def test_cutout_does_not_modify_its_input(student, device):
    x = _positive_images((8, 3, 12, 12), device, seed=23)
    check_unmodified(student.call("cutout", x, 6), "cutout", ["x"])
