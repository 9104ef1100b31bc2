# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] role="intro"
# # Assignment 2 — Regularisation and data augmentation
#
# This assignment goes with two chapters of the course book:
#
# - **Chapter 4, Regularisation** (`book/04_regularization.md`): dropout as an ensemble of
#   sub-networks, why its outputs must be rescaled, and the pattern "add randomness in training,
#   average it out at test time".
# - **Chapter 5, Data augmentation** (`book/05_augment.md`): Cutout, mixup, CutMix and label
#   smoothing, which regularise by changing the inputs and the targets instead of the network.
#
# You will write dropout as a function and as a layer, three augmentations that act on a batch of
# images, and the label-smoothed cross-entropy loss; then you look at what they do to real photos.
#
# ## Conventions (the hidden tests check them, as said below)
#
# - **`p` is the probability of dropping a unit** (zeroing it), as in PyTorch's `nn.Dropout`.  The
#   lectures' numpy code uses `p` for the probability of *keeping* a unit; here the keep probability
#   is `1 - p`.  Dropout is **inverted**: during training the survivors are scaled by `1 / (1 - p)`,
#   so that nothing has to change at test time, where dropout is the identity.
# - Every function works on CPU and CUDA, returns tensors of the **same dtype and device** as its
#   input, and **never modifies an input in place**.
# - Random functions take an optional `torch.Generator` and draw **every** random number from it
#   when it is given (the same generator state must give the same output), from PyTorch's global
#   random state when it is `None`.  Create random tensors on the generator's device
#   (`torch.rand(shape, generator=generator, device=generator.device)`) and move them to the data.
# - Labels are integer class indices of shape `(N,)`; mixed or smoothed targets are rows of
#   probabilities, shape `(N, num_classes)`, in the dtype of `x` (the default float dtype for
#   `label_smoothing`).
# - mixup and CutMix draw **one** $\lambda \sim \mathrm{Beta}(\alpha, \alpha)$ and one permutation
#   $\pi$ per batch, and return $\lambda$ as a Python float; $\lambda = 1$ when $\alpha \le 0$.
#   CutMix returns the area fraction actually kept after clipping the box to the image.
# - Bad arguments raise `ValueError` (a probability outside $[0, 1]$, a negative size, images that
#   are not `(N, C, H, W)`, class indices outside `[0, num_classes)`).  The hidden tests grade the
#   `ValueError`s of `p`, `eps`, a negative `size` and CutMix images that are not 4-D; the others
#   are good practice and not graded.
# - Half precision (`float16`, `bfloat16`) and empty tensors work too: the output keeps the dtype
#   (a `float32` mask would silently turn a `float16` result into `float32`).
#
# ## How to check your work
#
# Run the test cell under each function for quick feedback, then the whole notebook with
# `python -m autograder validate <this notebook>` or the **Validate** button of JupyterLab's
# nbgrader toolbar.  The visible tests are not the grade: the hidden suite is more thorough.

# %% [markdown] role="grading"
# The table of points and the list of forbidden names are generated from autograder/spec.py.

# %% role="imports"
import math

import torch
from torch import nn

# Helpers this notebook provides (read-only, like the imports): mixup, cutmix and
# label_smoothing use them.


def _one_hot(y: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """Class indices of shape (N,) -> one-hot rows of shape (N, num_classes) in `dtype`."""
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"class indices must be an integer tensor, got {y.dtype}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes})")
    classes = torch.arange(num_classes, device=y.device)
    return (y.unsqueeze(-1) == classes).to(dtype)


def _sample_beta(alpha: float, generator: torch.Generator | None) -> float:
    """One lambda ~ Beta(alpha, alpha) drawn from `generator`; 1.0 when alpha <= 0.

    torch.distributions.Beta samples from the global CPU random state, so we seed a private
    copy of that state from the generator (fork_rng restores the global state afterwards).
    """
    if alpha <= 0:
        return 1.0
    beta = torch.distributions.Beta(float(alpha), float(alpha))
    if generator is None:
        return float(beta.sample())
    seed = int(torch.randint(2**62, (), generator=generator, device=generator.device))
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        return float(beta.sample())

# %% [markdown]
# ## Part 1 — Dropout (Chapter 4)
#
# Srivastava et al. (2014), *Dropout: A Simple Way to Prevent Neural Networks from Overfitting*:
# during training, zero each unit independently with probability $p$ and scale the survivors by
# $1/(1-p)$ ("inverted dropout"), so that the expected output equals the input:
# $E[\text{out}] = (1-p)\cdot\frac{x}{1-p} = x$.  When `training` is false, return `x` unchanged
# (returning `x` itself is fine, as PyTorch does).  Handle the ends: `p = 0` keeps everything,
# `p = 1` zeroes everything (there is no survivor to scale).  Any `p` outside $[0, 1]$ raises
# `ValueError`.

# %% role="answer"
def dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Inverted dropout: zero each element with probability p, scale survivors by 1 / (1 - p)."""
    ### BEGIN SOLUTION
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    device = generator.device if generator is not None else x.device
    keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
    return x * (keep.to(x.dtype) / (1.0 - p))  # scale the mask first, as PyTorch does
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close

x = torch.randn(200, 500, dtype=torch.float64)
x_before = x.clone()
out = dropout(x, p=0.3, generator=torch.Generator().manual_seed(0))
assert isinstance(out, torch.Tensor), f"dropout should return a tensor, got {type(out).__name__}"
assert out.shape == x.shape and out.dtype == x.dtype, "dropout keeps the input's shape and dtype"
assert torch.equal(x, x_before), "dropout must not modify its input"
dropped = out == 0
assert abs(dropped.double().mean().item() - 0.3) < 0.01, "about a fraction p should be zeroed"
assert_close(out[~dropped], x[~dropped] / 0.7, msg="survivors are scaled by 1 / (1 - p)")
assert torch.equal(dropout(x, p=0.3, training=False), x), "dropout is the identity in eval mode"
assert torch.equal(dropout(x, p=0.0), x), "dropout with p = 0 keeps every value"
assert torch.equal(dropout(x, p=1.0), torch.zeros_like(x)), "dropout with p = 1 returns zeros"
same = [dropout(x, 0.5, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
assert torch.equal(*same), "the same generator state must give the same mask"
for bad_p in (-0.1, 1.5):
    try:
        dropout(x, bad_p)
    except ValueError:
        pass
    else:
        raise AssertionError(f"dropout(x, p={bad_p}) should raise ValueError")
print("dropout: visible tests passed")

# %% [markdown]
# ### Dropout as a layer
#
# `Dropout(p)` is an `nn.Module` whose `forward(x)` calls your `dropout` with `self.training`, the
# flag that `model.train()` and `model.eval()` switch.  Validate `p` in `__init__` (`ValueError`)
# and keep it as `self.p`.

# %% role="answer"
class Dropout(nn.Module):
    """Inverted dropout as a layer: active in train() mode, the identity in eval() mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return dropout(x, self.p, self.training)
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"p={self.p}"


# %% role="test"
from torch.testing import assert_close

layer = Dropout(0.25)
assert isinstance(layer, nn.Module), "Dropout(p) should be an nn.Module"
assert layer.p == 0.25 and layer.training, "Dropout keeps p as self.p and starts in training mode"
x = torch.ones(100, 1000)
torch.manual_seed(0)
out = layer(x)
assert isinstance(out, torch.Tensor), f"Dropout should return a tensor, got {type(out).__name__}"
assert abs((out == 0).float().mean().item() - 0.25) < 0.01, "about a fraction p should be zeroed"
assert_close(out[out != 0], torch.full_like(out[out != 0], 1 / 0.75),
             msg="survivors are scaled by 1 / (1 - p)")
layer.eval()
assert torch.equal(layer(x), x), "in eval mode Dropout is the identity"
model = nn.Sequential(nn.Linear(10, 10), Dropout(0.5))
model.eval()
assert not model[1].training, "model.eval() must reach your layer"
try:
    Dropout(2.0)
except ValueError:
    pass
else:
    raise AssertionError("Dropout(2.0) should raise ValueError")
print("Dropout: visible tests passed")

# %% [markdown]
# ### See dropout keep the mean
#
# The cell below applies your `dropout` to a tensor of ones for several `p`: the fraction of zeros
# should follow `p`, and the mean should stay at 1 (that is what the $1/(1-p)$ scaling is for).

# %% role="plot"
import matplotlib.pyplot as plt

try:
    ps = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    generator = torch.Generator().manual_seed(0)
    outs = [dropout(torch.ones(100_000), p, generator=generator) for p in ps]
except NotImplementedError:
    print("Implement dropout above to see this plot.")
else:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(ps, [(o == 0).float().mean().item() for o in outs], "o-", label="fraction zeroed")
    ax.plot(ps, [o.mean().item() for o in outs], "s-", label="mean of the output")
    ax.plot(ps, [o.std().item() for o in outs], "^-", label="std of the output")
    ax.set(xlabel="p (drop probability)", title="dropout(ones, p)")
    ax.legend()
    plt.show()

# %% [markdown]
# ## Part 2 — Data augmentation (Chapter 5)
#
# ### mixup
#
# Zhang et al. (2018), *mixup: Beyond Empirical Risk Minimization*: train on convex combinations
# of pairs of examples and of their labels.  Draw one $\lambda \sim \mathrm{Beta}(\alpha, \alpha)$
# and one random permutation $\pi$ of the batch, then
#
# $$\tilde x_i = \lambda\,x_i + (1-\lambda)\,x_{\pi(i)}, \qquad
# \tilde y_i = \lambda\,\text{onehot}(y_i) + (1-\lambda)\,\text{onehot}(y_{\pi(i)}).$$
#
# `x` may have any shape `(N, ...)`.  Two helpers are given in the read-only imports cell at the
# top:
# `_one_hot(y, num_classes, dtype)` (`torch.nn.functional.one_hot` is off limits) and
# `_sample_beta(alpha, generator)`, which draws $\lambda$ from the generator
# (`torch.distributions.Beta` has no generator argument).  For the permutation use
# `torch.randperm(n, generator=generator, device=...)`.

# %% role="answer"
def mixup(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """mixup (Zhang et al., 2018): mix each example and its label with those of a permuted batch."""
    ### BEGIN SOLUTION
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples but y has {y.shape[0]} labels")
    lam = _sample_beta(alpha, generator)
    device = generator.device if generator is not None else x.device
    perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
    x_mixed = lam * x + (1 - lam) * x[perm]
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    onehot = _one_hot(y, num_classes, dtype).to(x.device)
    y_soft = lam * onehot + (1 - lam) * onehot[perm]
    return x_mixed, y_soft, lam
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close

x = torch.randn(16, 3, 4, 4, dtype=torch.float64)
y = torch.randint(0, 5, (16,))
x_before = x.clone()
x_mixed, y_soft, lam = mixup(x, y, 5, alpha=1.0, generator=torch.Generator().manual_seed(1))
assert torch.equal(x, x_before), "mixup must not modify its input"
assert isinstance(x_mixed, torch.Tensor) and isinstance(y_soft, torch.Tensor), \
    "mixup returns (x_mixed, y_soft, lam) with two tensors"
assert x_mixed.shape == x.shape and x_mixed.dtype == x.dtype, "x_mixed keeps x's shape and dtype"
assert y_soft.shape == (16, 5) and y_soft.dtype == x.dtype, "y_soft is (N, K) in x's dtype"
assert isinstance(lam, float) and 0.0 <= lam <= 1.0, "lam is one Python float in [0, 1]"
assert_close(y_soft.sum(1), torch.ones(16, dtype=torch.float64), msg="rows of y_soft sum to 1")
# each mixed row is lam * x[i] + (1 - lam) * x[j], and the partners j form a permutation
partner_rows = (x_mixed - lam * x).flatten(1) / (1 - lam)
distances = torch.cdist(partner_rows, x.flatten(1))
partners = distances.argmin(1)
assert distances.min(1).values.max() < 1e-6, "a mixed row is not lam * x[i] + (1 - lam) * x[j]"
assert sorted(partners.tolist()) == list(range(16)), "the partners must be a permutation"
expected = lam * torch.eye(5, dtype=torch.float64)[y] + (1 - lam) * torch.eye(5)[y[partners]]
assert_close(y_soft, expected.double(), msg="labels must mix with the same lam and partners")
x_same, y_same, lam_one = mixup(x, y, 5, alpha=0.0)
assert lam_one == 1.0 and torch.equal(x_same, x), "alpha <= 0 means lam = 1 (no mixing)"
runs = [mixup(x, y, 5, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
assert torch.equal(runs[0][0], runs[1][0]) and runs[0][2] == runs[1][2], "use the generator"
print("mixup: visible tests passed")

# %% [markdown]
# ### CutMix
#
# Yun et al. (2019), *CutMix: Regularization Strategy to Train Strong Classifiers with Localizable
# Features*: instead of blending whole images, paste a box cut from the partner image.  For a
# batch `(N, C, H, W)`: draw $\lambda \sim \mathrm{Beta}(\alpha, \alpha)$ and a permutation $\pi$;
# the box has height `int(H * sqrt(1 - lam))` and width `int(W * sqrt(1 - lam))` (area about
# $(1-\lambda)HW$), its centre is uniform over the image (`torch.randint`), and it is clipped at
# the border.  Inside the box every image $i$ gets the pixels of image $\pi(i)$ (one box for the
# whole batch).  Because of the clipping and rounding, **recompute** $\lambda$ as the kept area
# fraction $1 - \text{box area}/(HW)$, mix the labels with it and return it.  Inputs that are not
# 4-D raise `ValueError`.  You may use the helpers of the imports cell.

# %% role="answer"
def cutmix(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """CutMix (Yun et al., 2019): paste one random box of a permuted batch into every image."""
    ### BEGIN SOLUTION
    if x.dim() != 4:
        raise ValueError(f"cutmix expects images of shape (N, C, H, W), got {tuple(x.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples but y has {y.shape[0]} labels")
    n, _, height, width = x.shape
    lam = _sample_beta(alpha, generator)
    device = generator.device if generator is not None else x.device
    perm = torch.randperm(n, generator=generator, device=device).to(x.device)
    # A box of about (1 - lam) of the area, centred uniformly, clipped to the image.
    cut_h, cut_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
    centre_y = int(torch.randint(height, (), generator=generator, device=device))
    centre_x = int(torch.randint(width, (), generator=generator, device=device))
    top, left = max(centre_y - cut_h // 2, 0), max(centre_x - cut_w // 2, 0)
    bottom = min(centre_y - cut_h // 2 + cut_h, height)
    right = min(centre_x - cut_w // 2 + cut_w, width)
    x_mixed = x.clone()
    x_mixed[:, :, top:bottom, left:right] = x[perm, :, top:bottom, left:right]
    lam = 1.0 - (bottom - top) * (right - left) / (height * width)
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    onehot = _one_hot(y, num_classes, dtype).to(x.device)
    y_soft = lam * onehot + (1 - lam) * onehot[perm]
    return x_mixed, y_soft, lam
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close

n, height, width = 8, 20, 30
x = torch.arange(1, n + 1, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, height, width)
x = x.contiguous()  # image i is filled with the value i + 1
y = torch.arange(n) % 4
x_before = x.clone()
x_mixed, y_soft, lam = cutmix(x, y, 4, alpha=1.0, generator=torch.Generator().manual_seed(2))
assert torch.equal(x, x_before), "cutmix must not modify its input"
assert isinstance(x_mixed, torch.Tensor) and isinstance(y_soft, torch.Tensor), \
    "cutmix returns (x_mixed, y_soft, lam) with two tensors"
assert x_mixed.shape == x.shape and x_mixed.dtype == x.dtype, "x_mixed keeps x's shape and dtype"
assert y_soft.shape == (n, 4), "y_soft has shape (N, num_classes)"
assert isinstance(lam, float) and 0.0 <= lam <= 1.0, "lam is one Python float in [0, 1]"
changed = (x_mixed != x).any(1)  # (n, H, W): pixels taken from the partner image
partners = [int(x_mixed[i, 0][changed[i]][0]) - 1 if changed[i].any() else i for i in range(n)]
for i in range(n):
    if changed[i].any():
        kept = 1 - changed[i].sum().item() / (height * width)
        assert math.isclose(kept, lam, abs_tol=1e-9), "lam must be the kept area fraction"
        rows, cols = changed[i].any(1).nonzero(), changed[i].any(0).nonzero()
        box = changed[i, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all(), "the pasted region must be one rectangle"
expected = lam * torch.eye(4)[y] + (1 - lam) * torch.eye(4)[y[partners]]
assert_close(y_soft, expected, msg="labels must mix with the returned lam")
x_same, _, lam_one = cutmix(x, y, 4, alpha=0.0)
assert lam_one == 1.0 and torch.equal(x_same, x), "alpha <= 0 means lam = 1 (no box)"
try:
    cutmix(x[0], y[:3], 4)
except ValueError:
    pass
else:
    raise AssertionError("cutmix of a 3-D tensor should raise ValueError")
print("cutmix: visible tests passed")

# %% [markdown]
# ### Cutout
#
# DeVries & Taylor (2017), *Improved Regularization of Convolutional Neural Networks with Cutout*:
# zero a random square of every image.  For each image of a batch `(N, C, H, W)` (or a single
# image `(C, H, W)`), draw a centre $(c_y, c_x)$ uniformly over the pixels and set the square of
# rows $c_y - \lfloor s/2\rfloor, \dots, c_y - \lfloor s/2\rfloor + s - 1$ (and the same for the
# columns), clipped at the border, to 0 in all channels.  Each image gets its own square.  A
# negative or non-integer `size` raises `ValueError`; `size = 0` changes nothing.  Build a boolean
# mask with `torch.arange` and broadcasting rather than a Python loop over images.

# %% role="answer"
def cutout(
    x: torch.Tensor, size: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Cutout (DeVries & Taylor, 2017): zero one random size x size square per image."""
    ### BEGIN SOLUTION
    if x.dim() not in (3, 4):
        raise ValueError(f"cutout expects (N, C, H, W) or (C, H, W), got {tuple(x.shape)}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}")
    images = x.unsqueeze(0) if x.dim() == 3 else x
    n, _, height, width = images.shape
    device = generator.device if generator is not None else x.device
    top = torch.randint(height, (n, 1), generator=generator, device=device).to(x.device)
    left = torch.randint(width, (n, 1), generator=generator, device=device).to(x.device)
    top, left = top - size // 2, left - size // 2
    rows = torch.arange(height, device=x.device)
    cols = torch.arange(width, device=x.device)
    in_rows = (rows >= top) & (rows < top + size)  # (n, H)
    in_cols = (cols >= left) & (cols < left + size)  # (n, W)
    square = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (n, 1, H, W)
    out = images.masked_fill(square, 0)
    return out.squeeze(0) if x.dim() == 3 else out
    ### END SOLUTION


# %% role="test"
x = torch.rand(6, 3, 32, 32) + 0.5  # no zeros before cutout
x_before = x.clone()
out = cutout(x, 8, generator=torch.Generator().manual_seed(0))
assert torch.equal(x, x_before), "cutout must not modify its input"
assert isinstance(out, torch.Tensor), f"cutout should return a tensor, got {type(out).__name__}"
assert out.shape == x.shape and out.dtype == x.dtype, "cutout keeps the input's shape and dtype"
zero = out == 0
assert torch.equal(zero, zero[:, :1].expand_as(zero)), "the same square in every channel"
for i in range(6):
    rows, cols = zero[i, 0].any(1).nonzero(), zero[i, 0].any(0).nonzero()
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert zero[i, 0].sum() == h * w, "the zeroed region must be a rectangle"
    assert 4 <= h <= 8 and 4 <= w <= 8, "a size x size square, clipped at the border"
    assert torch.equal(out[i][~zero[i]], x[i][~zero[i]]), "pixels outside the square unchanged"
assert cutout(x[0], 8).shape == (3, 32, 32), "a single (C, H, W) image works too"
assert torch.equal(cutout(x, 0), x), "cutout with size 0 changes nothing"
try:
    cutout(x, -1)
except ValueError:
    pass
else:
    raise AssertionError("a negative size should raise ValueError")
print("cutout: visible tests passed")

# %% [markdown]
# ### See the augmentations
#
# Two photos that ship with scikit-learn, as a batch of two images, mixed by your functions.

# %% role="plot"
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_images

photos = torch.from_numpy(np.stack(load_sample_images().images))[:, ::4, ::4]  # uint8
batch = photos.permute(0, 3, 1, 2).float() / 255  # (2, 3, 107, 160) in [0, 1]
labels = torch.tensor([0, 1])  # 0 = "china", 1 = "flower"


def swapped(augment):
    """The first of 20 seeded draws whose permutation swaps the two photos (half of them do)."""
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        images, targets, lam = augment(batch, labels, 2, generator=generator)
        if targets[0, 1] > 0:
            break
    return images, targets, lam


try:
    mixed, mixed_labels, mixed_lam = swapped(mixup)
    cut, cut_labels, cut_lam = swapped(cutmix)
    holes = cutout(batch, 40, generator=torch.Generator().manual_seed(0))
except NotImplementedError:
    print("Implement mixup, cutmix and cutout above to see this figure.")
else:
    panels = [
        (batch, "original"),
        (mixed, f"mixup, λ = {mixed_lam:.2f}"),
        (cut, f"CutMix, kept λ = {cut_lam:.2f}"),
        (holes, "Cutout, size 40"),
    ]
    fig, axes = plt.subplots(2, 4, figsize=(14, 5))
    for column, (images, title) in enumerate(panels):
        for row in range(2):
            axes[row, column].imshow(images[row].permute(1, 2, 0).clamp(0, 1))
            axes[row, column].set_title(title, fontsize=9)
            axes[row, column].axis("off")
    print("mixup targets:", mixed_labels.tolist(), " CutMix targets:", cut_labels.tolist())
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ### Label smoothing
#
# Szegedy et al. (2016), *Rethinking the Inception Architecture for Computer Vision*: replace the
# one-hot target by $(1-\varepsilon)\,\text{onehot}(y) + \varepsilon/K$ for $K$ classes, so the
# network is never asked to push a probability all the way to 1.  Return `(N, num_classes)` rows in
# the default float dtype on `y`'s device; $\varepsilon$ outside $[0, 1]$ raises `ValueError`.

# %% role="answer"
def label_smoothing(y: torch.Tensor, num_classes: int, eps: float) -> torch.Tensor:
    """Smoothed targets (1 - eps) * onehot(y) + eps / num_classes (Szegedy et al., 2016)."""
    ### BEGIN SOLUTION
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must be in [0, 1], got {eps}")
    return (1 - eps) * _one_hot(y, num_classes, torch.get_default_dtype()) + eps / num_classes
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close

y = torch.tensor([0, 2, 1, 2])
target = label_smoothing(y, 3, 0.3)
assert isinstance(target, torch.Tensor), \
    f"label_smoothing should return a tensor, got {type(target).__name__}"
assert target.shape == (4, 3) and target.dtype == torch.float32, \
    "the targets are (N, num_classes) in the default float dtype"
assert_close(target[1], torch.tensor([0.1, 0.1, 0.8]),
             msg="the target is (1 - eps) * onehot + eps / num_classes")
assert_close(target.sum(1), torch.ones(4), msg="each row sums to 1")
assert torch.equal(label_smoothing(y, 3, 0.0), torch.eye(3)[y]), "eps = 0 gives one-hot rows"
try:
    label_smoothing(y, 3, 1.5)
except ValueError:
    pass
else:
    raise AssertionError("eps = 1.5 should raise ValueError")
print("label_smoothing: visible tests passed")

# %% [markdown]
# ### Cross-entropy with label smoothing
#
# For logits $z$ of shape `(N, K)`, $\log p = z - \log\sum_k e^{z_k}$, and the loss of an example
# with target distribution $q$ is $-\sum_k q_k \log p_k$; return the mean over the batch.  The
# target is either integer class indices `(N,)` or probabilities `(N, K)` (what mixup and CutMix
# return); in both cases smooth it with $\varepsilon$ first, as PyTorch does:
# `smoothed_cross_entropy(z, y, eps)` must equal `F.cross_entropy(z, y, label_smoothing=eps)`.
# Subtract the row maximum before exponentiating: the loss must stay finite for logits as large as
# 1e4.  $\varepsilon$ outside $[0, 1]$ raises `ValueError`.

# %% role="answer"
def smoothed_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, eps: float = 0.0
) -> torch.Tensor:
    """Mean cross-entropy with the target (indices or probabilities) smoothed by eps."""
    ### BEGIN SOLUTION
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must be in [0, 1], got {eps}")
    class_dim = 1 if logits.dim() > 1 else 0
    num_classes = logits.shape[class_dim]
    shifted = logits - logits.amax(dim=class_dim, keepdim=True)  # exp never overflows
    log_probs = shifted - shifted.exp().sum(dim=class_dim, keepdim=True).log()
    if target.is_floating_point():
        if target.shape != logits.shape:
            raise ValueError(f"soft targets must have the logits' shape {tuple(logits.shape)}")
        smoothed = (1 - eps) * target.to(logits.dtype) + eps / num_classes
        losses = -(smoothed * log_probs).sum(dim=class_dim)
    else:
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= num_classes):
            raise ValueError(f"class indices must be in [0, {num_classes})")
        picked = log_probs.gather(class_dim, target.unsqueeze(class_dim)).squeeze(class_dim)
        # -sum_k q_k log p_k with q = (1 - eps) onehot + eps / K, without building q
        losses = -(1 - eps) * picked - eps * log_probs.mean(dim=class_dim)
    return losses.mean()
    ### END SOLUTION


# %% role="test"
from torch.testing import assert_close

# torch.nn.functional is used under its full name: an alias made here (F) would leak into
# your namespace, and an answer using it would pass here and fail in the grader.
logits = torch.randn(10, 6, dtype=torch.float64)
y = torch.randint(0, 6, (10,))
for eps in (0.0, 0.1, 0.4):
    expected = torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps)
    assert_close(smoothed_cross_entropy(logits, y, eps), expected, rtol=1e-12, atol=1e-12,
                 msg=lambda m, eps=eps: f"integer targets, eps = {eps}: {m}")
soft = torch.softmax(torch.randn(10, 6, dtype=torch.float64), dim=1)
assert_close(smoothed_cross_entropy(logits, soft, 0.2),
             torch.nn.functional.cross_entropy(logits, soft, label_smoothing=0.2), rtol=1e-12,
             atol=1e-12, msg=lambda m: f"soft targets, eps = 0.2: {m}")
big = logits * 1e4
loss = smoothed_cross_entropy(big, y, 0.1)
assert torch.isfinite(loss), "the loss must stay finite for logits of size 1e4"
assert_close(loss, torch.nn.functional.cross_entropy(big, y, label_smoothing=0.1),
             msg=lambda m: f"logits of size 1e4: {m}")
assert smoothed_cross_entropy(logits.float(), y).dtype == torch.float32, \
    "the loss keeps the logits' dtype"
print("smoothed_cross_entropy: visible tests passed")

# %% [markdown]
# ### See what label smoothing does to the optimum
#
# One example with 10 classes, logits $(m, 0, \dots, 0)$ and target class 0: the loss as a
# function of the margin $m$.

# %% role="plot"
import matplotlib.pyplot as plt

try:
    margins = torch.linspace(0, 20, 201, dtype=torch.float64)
    target_class = torch.tensor([0])
    curves = {}
    for eps in (0.0, 0.1, 0.3):
        curves[eps] = [
            smoothed_cross_entropy(torch.cat([m.view(1), torch.zeros(9, dtype=torch.float64)])
                                   .view(1, 10), target_class, eps).item()
            for m in margins
        ]
except NotImplementedError:
    print("Implement smoothed_cross_entropy above to see this plot.")
else:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for eps, losses in curves.items():
        best = margins[int(torch.tensor(losses).argmin())].item()
        ax.plot(margins, losses, label=f"ε = {eps} (minimum at m = {best:.1f})")
    ax.set(xlabel="margin m of the correct logit", ylabel="loss", ylim=(0, 3))
    ax.legend()
    plt.show()

# %% [markdown] role="question" grade_id="q_dropout_question"
# ## Question 1 (written, graded by hand)
#
# The lectures' "vanilla" dropout keeps units with probability $p$ during training and multiplies
# the activations by $p$ at test time; your inverted dropout divides by the keep probability
# during training instead.  Explain why some scaling is needed at all (what is the expected value
# of a unit's output during training?), why the inverted form is preferred in practice, and what
# happens to a network trained with dropout if you forget to switch it to `eval()` mode for
# testing.

# %% [markdown] role="manual" grade_id="q_dropout" points=5
# During training a unit is kept with probability $q = 1-p$, so its expected output is $q\,x$;
# at test time all units are kept and the next layer would see inputs $1/q$ times larger than it
# was trained on.  Either the test-time activations are multiplied by $q$ (vanilla dropout, which
# is the expectation over masks of the training-time output), or the training-time survivors are
# divided by $q$ (inverted dropout) so that $E[\text{out}] = x$ in both phases.  The inverted form
# leaves the test-time network untouched: no extra multiplication at inference, the same code for
# every model, and $p$ can be changed during training without touching the deployed model.
#
# If the model stays in training mode at test time, predictions are random (a different
# sub-network each call, noisy accuracy) and, with inverted scaling, individual activations are
# inflated by $1/q$; the results are worse and not reproducible.  Calling `model.eval()` turns
# dropout into the identity (and batch normalisation to its running statistics).

# %% [markdown] role="question" grade_id="q_mixing_question"
# ## Question 2 (written, graded by hand)
#
# Look at the label-smoothing plot.  Where is the minimum of the loss for $\varepsilon = 0$ and
# for $\varepsilon > 0$, and why does that act as a regulariser?  Then compare the three
# augmentations of your figure: what does CutMix keep that mixup loses, and what does it use that
# Cutout wastes?

# %% [markdown] role="manual" grade_id="q_mixing" points=5
# With $\varepsilon = 0$ the loss keeps decreasing as the margin grows (the minimum is at
# $m \to \infty$), so gradient descent keeps inflating the logits: the network becomes
# over-confident and its weights grow.  With $\varepsilon > 0$ the target gives every class
# $\varepsilon/K$, the loss has a minimum at a finite margin
# ($m^* = \log\frac{(1-\varepsilon)K + \varepsilon}{\varepsilon}$ here: about 4.5 for 0.1), and
# larger margins are penalised; this bounds the logits and improves calibration, much like a
# penalty on over-confidence.
#
# Mixup blends the whole images, which gives ghostly pictures unlike any natural image; CutMix
# keeps natural local statistics (every pixel comes from a real photo) while still mixing the
# labels by area.  Cutout removes a region and fills it with zeros, pixels that carry no
# information; CutMix fills the region with another example and asks the network to recognise
# both, so no training pixel is wasted and the model learns to use less discriminative parts
# (better localisation).
