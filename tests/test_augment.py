"""Tests for nntrain.augment: exact geometric and algebraic properties, PIL (a dependency of
matplotlib) as the oracle for the PIL-defined colour operations of RandAugment, and
fixed-seed statistics with bounds a correct implementation cannot fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nntrain import augment as A

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n=4, c=3, h=9, w=11, seed=0, device="cpu", dtype=F64) -> torch.Tensor:
    return torch.rand(n, c, h, w, dtype=dtype, generator=gen(seed)).to(device)


def on_8bit_grid(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round() / 255


# --------------------------------------------------------------------------- geometry
def test_flips(device):
    x = images(device=device)
    assert torch.equal(A.hflip(x), torch.flip(x, dims=[-1]))
    assert torch.equal(A.random_hflip(x, p=0.0, generator=gen()), x)
    assert torch.equal(A.random_hflip(x, p=1.0, generator=gen()), A.hflip(x))
    y = A.random_hflip(images(64, device=device), generator=gen(1))
    x64 = images(64, device=device)
    flipped = (y == A.hflip(x64)).flatten(1).all(1)
    same = (y == x64).flatten(1).all(1)
    assert bool((flipped ^ same).all()) and 0 < int(flipped.sum()) < 64
    assert A.random_hflip(x[0], generator=gen()).shape == x[0].shape  # single image


def test_resize_short_side_and_pair():
    x = images(2, h=20, w=30)
    assert A.resize(x, 10).shape == (2, 3, 10, 15)
    assert A.resize(x[0], (7, 8)).shape == (3, 7, 8)
    ref = F.interpolate(x, size=(10, 15), mode="bilinear", align_corners=False, antialias=True)
    torch.testing.assert_close(A.resize(x, 10), ref)


def test_crop_resize_integer_box_is_slicing_and_full_box_is_interpolate(device):
    x = images(device=device)
    boxes = torch.tensor([[0, 0, 5, 4], [1, 2, 5, 4], [4, 7, 5, 4], [2, 3, 5, 4]], dtype=F64)
    out = A.crop_resize(x, boxes, (5, 4))
    for i, (t, l, _, _) in enumerate(boxes.long().tolist()):
        torch.testing.assert_close(out[i], x[i, :, t : t + 5, l : l + 4], rtol=0, atol=1e-12)
    full = torch.tensor([[0.0, 0.0, 9.0, 11.0]], dtype=F64).expand(4, 4)
    ref = F.interpolate(x, size=(6, 7), mode="bilinear", align_corners=False)
    torch.testing.assert_close(A.crop_resize(x, full, (6, 7)), ref, rtol=0, atol=1e-12)


def test_random_crop_windows_come_from_the_padded_image(device):
    x = images(6, device=device)
    y = A.random_crop(x, (5, 6), padding=2, generator=gen(3))
    padded = F.pad(x, (2, 2, 2, 2))
    assert y.shape == (6, 3, 5, 6)
    for i in range(6):
        windows = padded[i].unfold(1, 5, 1).unfold(2, 6, 1)  # (C, nh, nw, 5, 6)
        match = (windows == y[i][:, None, None]).flatten(3).all(-1).all(0)
        assert bool(match.any())
    assert torch.equal(A.random_crop(x, (9, 11), generator=gen()), x)
    with pytest.raises(ValueError):
        A.random_crop(x, 12)


def test_random_resized_crop_shapes_and_identity_case(device):
    x = images(5, h=12, w=16, device=device)
    out = A.random_resized_crop(x, (6, 8), generator=gen(1))
    assert out.shape == (5, 3, 6, 8) and out.dtype == x.dtype and out.device == x.device
    # area fraction 1 and the image's own aspect ratio: the whole image, resized
    whole = A.random_resized_crop(x, (6, 8), scale=(1.0, 1.0), ratio=(4 / 3, 4 / 3))
    ref = F.interpolate(x, size=(6, 8), mode="bilinear", align_corners=False)
    torch.testing.assert_close(whole, ref, rtol=0, atol=1e-12)
    # impossible requests fall back to a central crop of an allowed aspect ratio
    fallback = A.random_resized_crop(x, (6, 6), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    ref = F.interpolate(A.center_crop(x, 12), size=(6, 6), mode="bilinear", align_corners=False)
    torch.testing.assert_close(fallback, ref, rtol=0, atol=1e-12)


def test_scale_jitter(device):
    x = images(3, h=10, w=10, device=device)
    assert torch.allclose(A.scale_jitter(x, 10, (10, 10), generator=gen()), x, atol=1e-12)
    out = A.scale_jitter(x, 6, (6, 15), generator=gen(2))
    assert out.shape == (3, 3, 6, 6)
    with pytest.raises(ValueError):
        A.scale_jitter(x, 8, (6, 10))


def test_five_and_ten_crop(device):
    x = images(2, h=7, w=9, device=device)
    crops = A.ten_crop(x, 4)
    assert crops.shape == (10, 2, 3, 4, 4)
    expected = [x[..., :4, :4], x[..., :4, 5:], x[..., 3:, :4], x[..., 3:, 5:], x[..., 2:6, 2:6]]
    for k, e in enumerate(expected):
        assert torch.equal(crops[k], e)
        assert torch.equal(crops[k + 5], A.hflip(e))
    assert torch.equal(A.center_crop(x, (3, 5)), x[..., 2:5, 2:7])


class _PixelSum(nn.Module):
    """A flip-invariant toy classifier: logits from sums over rows of each channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(-2, -1))


def test_tta_predict_averages_views_and_restores_mode():
    x = images(4, h=8, w=8)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 5 * 5, 6)).double().train()
    probs = A.tta_predict(model, x, crop_size=5)
    assert model.training
    with torch.no_grad():
        model.eval()
        expected = torch.stack([torch.softmax(model(v), -1) for v in A.ten_crop(x, 5)]).mean(0)
    torch.testing.assert_close(probs, expected)
    torch.testing.assert_close(probs.sum(1), torch.ones(4, dtype=F64))
    votes = A.tta_predict(model, x, crop_size=5, scales=[8, 10], reduce="vote")
    assert votes.shape == (4, 6)
    assert torch.allclose(votes * 20, (votes * 20).round())  # 2 scales × 10 views
    inv = _PixelSum()
    torch.testing.assert_close(A.tta_predict(inv, x), torch.softmax(inv(x), -1))
    with pytest.raises(ValueError):
        A.tta_predict(inv, x, reduce="max")


def test_rotate_translate_shear_exact(device):
    x = images(3, h=9, w=9, device=device)
    assert torch.equal(A.rotate(x, 90.0), torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal(A.rotate(x, -90.0), torch.rot90(x, -1, dims=(-2, -1)))
    assert torch.equal(A.rotate(x, 0.0), x)
    t = A.translate(x, dx=2, dy=-3)
    assert torch.equal(t[..., :6, 2:], x[..., 3:, :9 - 2])
    assert (t[..., 6:, :] == 0).all() and (t[..., :, :2] == 0).all()
    assert torch.equal(A.shear(x, 0.0, "x"), x)
    s = A.shear(x, 0.25, "x")
    assert torch.equal(s[..., 4, :], x[..., 4, :])  # the centre row does not move
    assert torch.equal(A.shear(x, 0.25, "y")[..., :, 4], x[..., :, 4])
    filled = A.translate(x, dx=3, fill=0.5)
    assert (filled[..., :3] == 0.5).all()


# --------------------------------------------------------------------------- colour vs PIL
PIL = pytest.importorskip("PIL")
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402


def _photo_batch() -> torch.Tensor:
    from nntrain.data import sample_images

    return on_8bit_grid(sample_images(size=(24, 32)).double())


def _pil_apply(x: torch.Tensor, fn) -> torch.Tensor:
    out = []
    for img in x:
        arr = (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        res = np.asarray(fn(Image.fromarray(arr))).astype(np.float64) / 255
        out.append(torch.from_numpy(res).permute(2, 0, 1))
    return torch.stack(out)


@pytest.mark.parametrize(
    ("name", "mine", "reference", "levels"),
    [
        ("equalize", A.equalize, ImageOps.equalize, 0),
        ("posterize", lambda t: A.posterize(t, 3), lambda im: ImageOps.posterize(im, 3), 0),
        ("solarize", lambda t: A.solarize(t, 0.5), lambda im: ImageOps.solarize(im, 128), 0),
        ("autocontrast", A.autocontrast, ImageOps.autocontrast, 1),
        ("brightness", lambda t: A.adjust_brightness(t, 1.6),
         lambda im: ImageEnhance.Brightness(im).enhance(1.6), 1),
        ("contrast", lambda t: A.adjust_contrast(t, 0.3),
         lambda im: ImageEnhance.Contrast(im).enhance(0.3), 1.5),
        ("color", lambda t: A.adjust_saturation(t, 1.8),
         lambda im: ImageEnhance.Color(im).enhance(1.8), 1.5),
        ("sharpness", lambda t: A.adjust_sharpness(t, 1.9),
         lambda im: ImageEnhance.Sharpness(im).enhance(1.9), 1.5),
        ("blur", lambda t: A.adjust_sharpness(t, 0.2),
         lambda im: ImageEnhance.Sharpness(im).enhance(0.2), 1.5),
    ],
)
def test_colour_ops_match_pil(name, mine, reference, levels):
    """PIL works in 8 bits and rounds; ours is exact, so allow ``levels`` of 1/255."""
    x = _photo_batch()
    diff = (mine(x) - _pil_apply(x, reference)).abs().max() * 255
    assert float(diff) <= levels + 1e-6, name


def test_rotate_matches_pil_direction():
    x = _photo_batch()
    ours, pil = A.rotate(x, 25.0), _pil_apply(x, lambda im: im.rotate(25.0))
    mismatched = ((ours - pil).abs() > 1.5 / 255).double().mean()
    assert float(mismatched) < 0.02  # only pixels on nearest-neighbour rounding ties differ


def test_colour_adjustments_identities(device):
    x = images(device=device)
    for fn in (A.adjust_brightness, A.adjust_contrast, A.adjust_saturation, A.adjust_sharpness):
        torch.testing.assert_close(fn(x, 1.0), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(A.adjust_hue(x, 0.0), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(A.adjust_hue(x, 1.0), x, rtol=0, atol=1e-12)
    grey = A.adjust_saturation(x, 0.0)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    # a hue rotation keeps luma (colours near grey so that nothing clips)
    mild = 0.4 + 0.2 * x
    torch.testing.assert_close(
        A.grayscale(A.adjust_hue(mild, 0.3)), A.grayscale(mild), rtol=0, atol=1e-10
    )
    one_channel = x[:, :1]
    assert torch.equal(A.adjust_hue(one_channel, 0.2), one_channel)
    # per-image factors
    factors = torch.tensor([0.5, 1.0, 0.0, 1.0], dtype=F64, device=device)
    out = A.adjust_brightness(x, factors)
    torch.testing.assert_close(out[1], x[1])
    torch.testing.assert_close(out[0], x[0] * 0.5)
    assert (out[2] == 0).all()


def test_color_jitter(device):
    x = images(6, device=device)
    assert torch.equal(A.color_jitter(x, 0, 0, 0, 0, generator=gen()), x)
    a = A.color_jitter(x, 0.5, 0.5, 0.5, 0.1, generator=gen(5))
    b = A.color_jitter(x, 0.5, 0.5, 0.5, 0.1, generator=gen(5))
    assert torch.equal(a, b) and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1
    # brightness only: every image is scaled by its own factor within [0.5, 1.5]
    x_dim = 0.1 + 0.5 * x
    br = A.color_jitter(x_dim, brightness=0.5, contrast=0, saturation=0, generator=gen(6))
    ratio = (br / x_dim).flatten(1)
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))
    assert ((ratio[:, 0] >= 0.5) & (ratio[:, 0] <= 1.5)).all()
    assert ratio[:, 0].unique().numel() == 6


def test_rgb_pca_and_fancy_pca(device):
    x = images(2000, h=2, w=2, seed=3, device=device)
    x = x * torch.tensor([1.0, 0.5, 0.2], dtype=F64, device=device).view(1, 3, 1, 1)
    vals, vecs = A.rgb_pca(x)
    assert vals.shape == (3,) and bool((vals[:-1] >= vals[1:]).all())
    torch.testing.assert_close(vecs.T @ vecs, torch.eye(3, dtype=F64, device=device))
    pixels = x.movedim(1, -1).reshape(-1, 3)
    cov = torch.cov(pixels.T)
    torch.testing.assert_close(cov @ vecs, vecs * vals, rtol=1e-10, atol=1e-12)
    out = A.fancy_pca(x, vals, vecs, alpha_std=0.1, generator=gen(4))
    delta = (out - x).flatten(2)
    torch.testing.assert_close(delta, delta[:, :, :1].expand_as(delta))  # one offset per image
    alpha = (delta[:, :, 0] @ vecs) / vals  # recover the alpha_i
    std = alpha.std(0)
    assert bool(((std > 0.09) & (std < 0.11)).all())  # sample std of 2000 N(0, 0.1²) draws
    assert torch.equal(A.fancy_pca(x, vals, vecs, alpha_std=0.0, generator=gen()), x)
    assert A.fancy_pca(x[0], generator=gen()).shape == x[0].shape


# --------------------------------------------------------------------------- RandAugment
def test_rand_augment_has_the_14_ops_of_the_paper():
    assert list(A.RAND_AUGMENT_OPS) == [
        "Identity", "AutoContrast", "Equalize", "Rotate", "Solarize", "Color", "Posterize",
        "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateX", "TranslateY",
    ]


MAGNITUDE_OPS = [
    "Identity", "Rotate", "Solarize", "Color", "Posterize", "Contrast", "Brightness",
    "Sharpness", "ShearX", "ShearY", "TranslateX", "TranslateY",
]


@pytest.mark.parametrize("name", MAGNITUDE_OPS)
def test_rand_augment_ops_are_identity_at_magnitude_zero(device, name):
    x = on_8bit_grid(images(device=device))
    out = A.RAND_AUGMENT_OPS[name](x, 0)
    torch.testing.assert_close(out, x, rtol=0, atol=1e-12)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


@pytest.mark.parametrize("name", list(A.RAND_AUGMENT_OPS))
def test_rand_augment_ops_change_images_at_high_magnitude_and_stay_in_range(device, name):
    x = on_8bit_grid(_photo_batch().to(device))
    out = A.RAND_AUGMENT_OPS[name](x, 20)
    assert out.min() >= 0 and out.max() <= 1
    if name != "Identity":
        assert not torch.allclose(out, x), name


def test_rand_augment_magnitude_scale():
    x = images(h=9, w=9)
    torch.testing.assert_close(A.RAND_AUGMENT_OPS["Rotate"](x, 30), A.rotate(x, 30.0))
    torch.testing.assert_close(A.RAND_AUGMENT_OPS["Rotate"](x, -15), A.rotate(x, -15.0))
    torch.testing.assert_close(
        A.RAND_AUGMENT_OPS["Posterize"](on_8bit_grid(x), 30), A.posterize(x, 4)
    )
    torch.testing.assert_close(A.RAND_AUGMENT_OPS["Solarize"](x, 30), A.solarize(x, 0.0))


def test_rand_augment_policy(device):
    x = on_8bit_grid(images(16, device=device))
    assert torch.equal(A.rand_augment(x, n=0, m=9, generator=gen()), x)
    harmless = [op for op in MAGNITUDE_OPS if op != "Posterize"]
    assert torch.allclose(A.rand_augment(x, 3, 0, generator=gen(), ops=harmless), x, atol=1e-12)
    a = A.rand_augment(x, 2, 9, generator=gen(7))
    b = A.RandAugment(2, 9, generator=gen(7))(x)
    assert torch.equal(a, b)
    assert a.shape == x.shape and a.device == x.device
    assert not torch.equal(a, A.rand_augment(x, 2, 9, generator=gen(8)))
    # ops are drawn per image: identical images come out different
    same = x[:1].expand(16, -1, -1, -1)
    out = A.rand_augment(same, 1, 15, generator=gen(9))
    assert len({tuple(o.flatten().tolist()) for o in out}) > 4


# --------------------------------------------------------------------------- cutout / erasing
def _rectangle(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a mask that must be one filled axis-aligned rectangle."""
    rows = mask.any(1).nonzero().flatten()
    cols = mask.any(0).nonzero().flatten()
    top, left = int(rows[0]), int(cols[0])
    h, w = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    box = torch.zeros_like(mask)
    box[top : top + h, left : left + w] = True
    assert torch.equal(box, mask), "not a filled rectangle"
    return top, left, h, w


@pytest.mark.parametrize("size", [1, 4, 5])
def test_cutout_zeroes_one_clipped_square(device, size):
    n, hgt, wid = 300, 9, 10
    x = images(n, h=hgt, w=wid, device=device) + 0.1  # no zeros to begin with
    before = x.clone()
    out = A.cutout(x, size, generator=gen(size))
    assert torch.equal(x, before) and out.dtype == x.dtype and out.device == x.device
    zero = out == 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # same square in every channel
    assert torch.equal(out[~zero], x[~zero])
    clipped = 0
    for mask in zero[:, 0].cpu():
        top, left, h, w = _rectangle(mask)
        assert h <= size and w <= size
        touches = top == 0 or left == 0 or top + h == hgt or left + w == wid
        if not touches:
            assert (h, w) == (size, size)
        clipped += (h, w) != (size, size)
    if size > 1:
        assert clipped > 0  # centres near the border are clipped
    assert torch.equal(A.cutout(x, size, generator=gen(1)), A.cutout(x, size, generator=gen(1)))


def test_cutout_centres_cover_the_image():
    x = torch.ones(2000, 1, 5, 5, dtype=F64)
    out = A.cutout(x, 1, generator=gen(0))
    counts = (out == 0).sum(0)[0]  # one pixel per image: where the centre fell
    assert int(counts.sum()) == 2000
    expected = 2000 / 25
    assert bool(((counts - expected).abs() < 6 * math.sqrt(expected)).all())


def test_random_erasing(device):
    n, hgt, wid = 200, 16, 16
    x = images(n, h=hgt, w=wid, device=device) + 2.0
    assert torch.equal(A.random_erasing(x, p=0.0, generator=gen()), x)
    out = A.random_erasing(x, p=1.0, value=0.0, generator=gen(1))
    fractions = []
    for mask in (out == 0)[:, 0].cpu():
        _, _, h, w = _rectangle(mask)
        fractions.append(h * w / (hgt * wid))
    fractions = torch.tensor(fractions)
    # areas 0.02..0.4 of the image, up to rounding the sides to whole pixels
    assert fractions.min() >= 4 / 256 and fractions.max() <= 0.45
    half = A.random_erasing(x, p=0.5, value=0.0, generator=gen(2))
    erased = int((half == 0).flatten(1).any(1).sum())
    assert abs(erased - n / 2) < 6 * math.sqrt(n / 4)
    mean = torch.tensor([0.1, 0.2, 0.3], dtype=F64)
    per_channel = A.random_erasing(x, p=1.0, value=mean, generator=gen(3))
    changed = per_channel != x
    for c in range(3):
        assert (per_channel[:, c][changed[:, c]] == mean[c]).all()
    noisy = A.random_erasing(x, p=1.0, generator=gen(4))
    filled = noisy[noisy != x]
    assert filled.min() >= 0 and filled.max() < 1  # uniform noise replaced values >= 2
    assert torch.equal(noisy, A.random_erasing(x, p=1.0, generator=gen(4)))


# --------------------------------------------------------------------------- mixup / CutMix
def _recover_partner(x_mixed, x, lam):
    """For each row i, the j with x_mixed[i] == lam x[i] + (1 - lam) x[j]."""
    candidates = lam * x[:, None] + (1 - lam) * x[None, :]  # [i, j]
    err = (candidates - x_mixed[:, None]).flatten(2).abs().amax(-1)
    return err.argmin(1), err.amin(1)


@pytest.mark.parametrize("alpha", [0.2, 1.0, 4.0])
def test_mixup_rows_are_convex_combinations_with_a_permutation(device, alpha):
    n, k = 10, 7
    x = images(n, device=device)
    y = torch.randint(0, k, (n,), generator=gen(1)).to(device)
    for seed in range(5):
        x_mixed, y_soft, lam = A.mixup(x, y, k, alpha, generator=gen(seed))
        assert isinstance(lam, float) and 0.0 <= lam <= 1.0
        assert x_mixed.shape == x.shape and x_mixed.dtype == x.dtype
        assert y_soft.shape == (n, k) and y_soft.device == x.device
        partner, err = _recover_partner(x_mixed, x, lam)
        assert float(err.max()) < 1e-12
        assert sorted(partner.tolist()) == list(range(n))
        onehot = F.one_hot(y, k).to(F64)
        torch.testing.assert_close(y_soft, lam * onehot + (1 - lam) * onehot[partner])
        torch.testing.assert_close(y_soft.sum(1), torch.ones(n, dtype=F64, device=device))


def test_mixup_alpha_zero_soft_labels_and_determinism():
    x, y = images(6), torch.arange(6)
    x_mixed, y_soft, lam = A.mixup(x, y, 6, alpha=0.0, generator=gen())
    assert lam == 1.0 and torch.equal(x_mixed, x)
    torch.testing.assert_close(y_soft, torch.eye(6, dtype=F64))
    soft = torch.softmax(torch.randn(6, 6, dtype=F64), 1)
    _, y_soft, lam = A.mixup(x, soft, 6, generator=gen(2))
    torch.testing.assert_close(y_soft.sum(1), torch.ones(6, dtype=F64))
    first = A.mixup(x, y, 6, generator=gen(3))
    second = A.mixup(x, y, 6, generator=gen(3))
    assert first[2] == second[2] and torch.equal(first[0], second[0])


def test_mixup_lambda_follows_beta():
    x, y = torch.zeros(2, 1), torch.zeros(2, dtype=torch.long)
    uniform = torch.tensor([A.mixup(x, y, 2, 1.0, generator=gen(s))[2] for s in range(2000)])
    # Beta(1, 1) is uniform: mean 1/2, sd 1/sqrt(12)
    assert abs(float(uniform.mean()) - 0.5) < 6 / math.sqrt(12 * 2000)
    small = torch.tensor([A.mixup(x, y, 2, 0.1, generator=gen(s))[2] for s in range(500)])
    # Beta(0.1, 0.1) puts about 3/4 of its mass within 0.05 of 0 or 1
    near_ends = float(((small < 0.05) | (small > 0.95)).double().mean())
    assert near_ends > 0.6


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_cutmix_lambda_is_the_kept_area(device, alpha):
    n, k, hgt, wid = 6, 6, 9, 12
    x = images(n, h=hgt, w=wid, device=device)
    y = torch.arange(n, device=device)
    for seed in range(40):
        x_mixed, y_soft, lam = A.cutmix(x, y, k, alpha, generator=gen(seed))
        assert isinstance(lam, float)
        if lam == 1.0:
            assert torch.equal(x_mixed, x)
            continue
        partner = (y_soft * (1 - torch.eye(n, dtype=F64, device=device))).argmax(1)
        partner = torch.where(y_soft.diagonal() == 1.0, torch.arange(n, device=device), partner)
        assert sorted(partner.tolist()) == list(range(n))
        onehot = torch.eye(n, dtype=F64, device=device)
        torch.testing.assert_close(y_soft, lam * onehot + (1 - lam) * onehot[partner])
        # pixels taken from the partner form one rectangle shared by the whole batch
        from_partner = (x_mixed == x[partner]).all(1) & (x_mixed != x).any(1)
        moved = partner != torch.arange(n, device=device)
        masks = from_partner[moved]
        assert bool((masks == masks[:1]).all())
        _, _, h, w = _rectangle(masks[0].cpu())
        assert lam == pytest.approx(1 - h * w / (hgt * wid), abs=1e-12)
        assert torch.equal(x_mixed[~from_partner[:, None].expand_as(x)],
                           x[~from_partner[:, None].expand_as(x)])
    with pytest.raises(ValueError):
        A.cutmix(x.flatten(1), y, k)


def test_cutmix_alpha_zero_is_identity_and_deterministic():
    x, y = images(4), torch.tensor([0, 1, 2, 3])
    x_mixed, y_soft, lam = A.cutmix(x, y, 4, alpha=0.0, generator=gen())
    assert lam == 1.0 and torch.equal(x_mixed, x)
    a, b = A.cutmix(x, y, 4, generator=gen(5)), A.cutmix(x, y, 4, generator=gen(5))
    assert a[2] == b[2] and torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


# --------------------------------------------------------------------------- devices
RANDOM_FUNCTIONS = {
    "random_hflip": lambda x, g: A.random_hflip(x, generator=g),
    "random_crop": lambda x, g: A.random_crop(x, 6, padding=1, generator=g),
    "random_resized_crop": lambda x, g: A.random_resized_crop(x, 5, generator=g),
    "color_jitter": lambda x, g: A.color_jitter(x, hue=0.1, generator=g),
    "fancy_pca": lambda x, g: A.fancy_pca(x, generator=g),
    "rand_augment": lambda x, g: A.rand_augment(x, 2, 9, generator=g),
    "cutout": lambda x, g: A.cutout(x, 3, generator=g),
    "random_erasing": lambda x, g: A.random_erasing(x, p=1.0, generator=g),
    "mixup": lambda x, g: A.mixup(x, torch.arange(4, device=x.device), 4, generator=g)[0],
    "cutmix": lambda x, g: A.cutmix(x, torch.arange(4, device=x.device), 4, generator=g)[0],
}


@pytest.mark.parametrize("name", list(RANDOM_FUNCTIONS))
def test_random_augmentations_same_for_a_cpu_generator_on_any_device(device, name):
    fn = RANDOM_FUNCTIONS[name]
    x = on_8bit_grid(images(4, h=8, w=8))
    on_cpu = fn(x, gen(13))
    on_device = fn(x.to(device), gen(13))
    assert on_device.device.type == device.type and on_device.dtype == x.dtype
    torch.testing.assert_close(on_device.cpu(), on_cpu, rtol=0, atol=1e-6)
    assert torch.equal(fn(x, gen(13)), on_cpu)


def test_batch_transform_loader():
    data = [(torch.ones(2, 1, 4, 4), torch.tensor([0, 1]))] * 3
    loader = A.BatchTransformLoader(data, lambda x, y: A.mixup(x, y, 2, generator=gen())[:2])
    assert len(loader) == 3
    batches = list(loader)
    assert len(batches) == 3 and batches[0][1].shape == (2, 2)
