"""Catalogue of a2_regularization: dropout, mixup, CutMix, Cutout and label smoothing."""

from __future__ import annotations

import textwrap

from . import correct, wrong

A = "a2_regularization"

# The helpers cutmix and label_smoothing use live in the notebook's locked imports cell; mixup
# entries still define them (as a submission copied from an older release would), harmlessly.
MIXUP_HELPERS = '''

def _one_hot(y, num_classes, dtype):
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError("class indices must be integers")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes})")
    return (y.unsqueeze(-1) == torch.arange(num_classes, device=y.device)).to(dtype)


def _sample_beta(alpha, generator):
    if alpha <= 0:
        return 1.0
    beta = torch.distributions.Beta(float(alpha), float(alpha))
    if generator is None:
        return float(beta.sample())
    seed = int(torch.randint(2**62, (), generator=generator, device=generator.device))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return float(beta.sample())
'''


def _mixup(code: str) -> str:
    """A mixup cell: the given code plus the helpers the other cells need."""
    return textwrap.dedent(code) + MIXUP_HELPERS


ENTRIES = [
    # ------------------------------------------------------------------ wrong: dropout
    wrong(A, "dropout", "a2-dropout-p-as-keep-probability",
          "the lectures' convention: keeps a unit with probability p and scales by 1/p; right "
          "for p = 0.5 only; Dropout, which calls dropout, breaks too",
          """
          def dropout(x, p=0.5, training=True, generator=None):
              if not 0 <= p <= 1:
                  raise ValueError(f"bad p {p}")
              if not training:
                  return x
              device = generator.device if generator is not None else x.device
              keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) < p
              return x * keep / p
          """, also=("Dropout",)),
    wrong(A, "dropout", "a2-dropout-without-rescaling",
          "vanilla dropout in training: the survivors are not scaled by 1 / (1 - p)",
          """
          def dropout(x, p=0.5, training=True, generator=None):
              if not 0 <= p <= 1:
                  raise ValueError(f"bad p {p}")
              if not training:
                  return x
              device = generator.device if generator is not None else x.device
              keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
              return x * keep
          """, also=("Dropout",)),
    wrong(A, "dropout", "a2-dropout-multiplies-the-input-in-place",
          "x.mul_(mask): right values, but the caller's tensor is overwritten",
          """
          def dropout(x, p=0.5, training=True, generator=None):
              if not 0 <= p <= 1:
                  raise ValueError(f"bad p {p}")
              if not training or p == 0:
                  return x
              if p == 1:
                  return torch.zeros_like(x)
              device = generator.device if generator is not None else x.device
              keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
              return x.mul_(keep.to(x.dtype)).div_(1 - p)
          """),
    wrong(A, "dropout", "a2-dropout-ignores-the-generator",
          "draws the mask from the global random state: the same generator gives other masks",
          """
          def dropout(x, p=0.5, training=True, generator=None):
              if not 0 <= p <= 1:
                  raise ValueError(f"bad p {p}")
              if not training or p == 0:
                  return x
              if p == 1:
                  return torch.zeros_like(x)
              keep = torch.rand(x.shape, device=x.device) >= p
              return x * keep / (1 - p)
          """),
    wrong(A, "dropout", "a2-dropout-divides-by-zero-at-p-one",
          "no special case for p = 1: x * 0 / 0 gives nan instead of zeros",
          """
          def dropout(x, p=0.5, training=True, generator=None):
              if not 0 <= p <= 1:
                  raise ValueError(f"bad p {p}")
              if not training:
                  return x
              device = generator.device if generator is not None else x.device
              keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
              return x * keep / (1 - p)
          """),
    wrong(A, "Dropout", "a2-Dropout-ignores-eval-mode",
          "forward always calls dropout with training=True: eval() changes nothing",
          """
          class Dropout(nn.Module):
              def __init__(self, p=0.5):
                  super().__init__()
                  if not 0 <= p <= 1:
                      raise ValueError(f"bad p {p}")
                  self.p = p

              def forward(self, x):
                  return dropout(x, self.p, True)
          """),
    # ------------------------------------------------------------------ wrong: mixup
    wrong(A, "mixup", "a2-mixup-one-lam-per-sample",
          "draws a lam for every example (timm's elementwise mode) and returns the vector: the "
          "contract is one lam per batch",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              n = x.shape[0]
              device = generator.device if generator is not None else x.device
              lam = torch.tensor([_sample_beta(alpha, generator) for _ in range(n)],
                                 dtype=x.dtype).to(x.device)
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              shape = (n,) + (1,) * (x.dim() - 1)
              x_mixed = lam.view(shape) * x + (1 - lam.view(shape)) * x[perm]
              onehot = _one_hot(y, num_classes, x.dtype)
              y_soft = lam[:, None] * onehot + (1 - lam[:, None]) * onehot[perm]
              return x_mixed, y_soft, lam
          """)),
    wrong(A, "mixup", "a2-mixup-labels-not-mixed",
          "mixes the images but returns the one-hot labels of the original batch",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              x_mixed = lam * x + (1 - lam) * x[perm]
              return x_mixed, _one_hot(y, num_classes, x.dtype), lam
          """)),
    wrong(A, "mixup", "a2-mixup-uniform-lam",
          "lam ~ U(0, 1) whatever alpha is: the Beta(alpha, alpha) distribution test fails",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              device = generator.device if generator is not None else x.device
              if alpha <= 0:
                  lam = 1.0
              else:
                  lam = float(torch.rand((), generator=generator, device=device))
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              onehot = _one_hot(y, num_classes, x.dtype)
              return (lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm],
                      lam)
          """)),
    # ------------------------------------------------------------------ wrong: cutmix
    wrong(A, "cutmix", "a2-cutmix-lam-not-area-corrected",
          "returns (and mixes the labels with) the sampled lam, not the area actually kept "
          "after clipping and rounding the box",
          """
          def cutmix(x, y, num_classes, alpha=1.0, generator=None):
              if x.dim() != 4:
                  raise ValueError("cutmix expects (N, C, H, W)")
              n, _, h, w = x.shape
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              cut = math.sqrt(1 - lam)
              ch, cw = int(h * cut), int(w * cut)
              cy = int(torch.randint(h, (), generator=generator, device=device))
              cx = int(torch.randint(w, (), generator=generator, device=device))
              y1, y2 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
              x1, x2 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
              out = x.clone()
              out[:, :, y1:y2, x1:x2] = x[perm][:, :, y1:y2, x1:x2]
              onehot = _one_hot(y, num_classes, x.dtype)
              return out, lam * onehot + (1 - lam) * onehot[perm], lam
          """),
    wrong(A, "cutmix", "a2-cutmix-pastes-into-the-input",
          "pastes the box into x itself (as timm does in place): the caller's batch changes",
          """
          def cutmix(x, y, num_classes, alpha=1.0, generator=None):
              if x.dim() != 4:
                  raise ValueError("cutmix expects (N, C, H, W)")
              n, _, h, w = x.shape
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              cut = math.sqrt(1 - lam)
              ch, cw = int(h * cut), int(w * cut)
              cy = int(torch.randint(h, (), generator=generator, device=device))
              cx = int(torch.randint(w, (), generator=generator, device=device))
              y1, y2 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
              x1, x2 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
              x[:, :, y1:y2, x1:x2] = x[perm][:, :, y1:y2, x1:x2]
              lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
              onehot = _one_hot(y, num_classes, x.dtype)
              return x, lam * onehot + (1 - lam) * onehot[perm], lam
          """),
    # ------------------------------------------------------------------ wrong: cutout
    wrong(A, "cutout", "a2-cutout-devries-code-loses-a-row-for-odd-sizes",
          "rows cy - s//2 .. cy + s//2 (exclusive), as the paper's code: an odd size s gives an "
          "(s-1) x (s-1) square",
          """
          def cutout(x, size, generator=None):
              if size < 0:
                  raise ValueError("size must be >= 0")
              n, _, h, w = x.shape
              device = generator.device if generator is not None else x.device
              cy = torch.randint(h, (n,), generator=generator, device=device).tolist()
              cx = torch.randint(w, (n,), generator=generator, device=device).tolist()
              out = x.clone()
              for i in range(n):
                  y1, y2 = max(cy[i] - size // 2, 0), min(cy[i] + size // 2, h)
                  x1, x2 = max(cx[i] - size // 2, 0), min(cx[i] + size // 2, w)
                  out[i, :, y1:y2, x1:x2] = 0
              return out
          """),
    wrong(A, "cutout", "a2-cutout-square-always-inside",
          "samples the top-left corner in [0, H - size]: squares are never clipped at the border "
          "(the centre is not uniform over the image) and size > H fails",
          """
          def cutout(x, size, generator=None):
              if size < 0:
                  raise ValueError("size must be >= 0")
              n, _, h, w = x.shape
              device = generator.device if generator is not None else x.device
              top = torch.randint(h - size + 1, (n,), generator=generator, device=device).tolist()
              left = torch.randint(w - size + 1, (n,), generator=generator, device=device).tolist()
              out = x.clone()
              for i in range(n):
                  out[i, :, top[i]:top[i] + size, left[i]:left[i] + size] = 0
              return out
          """),
    wrong(A, "cutout", "a2-cutout-one-square-for-the-whole-batch",
          "one centre for the batch: every image loses the same square",
          """
          def cutout(x, size, generator=None):
              if size < 0:
                  raise ValueError("size must be >= 0")
              _, _, h, w = x.shape
              device = generator.device if generator is not None else x.device
              cy = int(torch.randint(h, (), generator=generator, device=device))
              cx = int(torch.randint(w, (), generator=generator, device=device))
              top, left = cy - size // 2, cx - size // 2
              out = x.clone()
              out[:, :, max(top, 0):max(top + size, 0), max(left, 0):max(left + size, 0)] = 0
              return out
          """),
    # ------------------------------------------------------------------ wrong: label smoothing
    wrong(A, "label_smoothing", "a2-label-smoothing-eps-over-k-minus-one",
          "the true class gets 1 - eps and the others eps / (K - 1): a valid smoothing, but not "
          "the (1 - eps) onehot + eps / K of the contract and of PyTorch",
          """
          def label_smoothing(y, num_classes, eps):
              if not 0 <= eps <= 1:
                  raise ValueError(f"bad eps {eps}")
              onehot = _one_hot(y, num_classes, torch.get_default_dtype())
              return onehot * (1 - eps) + (1 - onehot) * eps / (num_classes - 1)
          """),
    wrong(A, "smoothed_cross_entropy", "a2-smoothed-ce-eps-over-k-minus-one",
          "smooths with eps / (K - 1) on the wrong classes: differs from F.cross_entropy(..., "
          "label_smoothing=eps) for eps > 0",
          """
          def smoothed_cross_entropy(logits, target, eps=0.0):
              if not 0 <= eps <= 1:
                  raise ValueError(f"bad eps {eps}")
              k = logits.shape[1]
              log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
              if target.is_floating_point():
                  q = target.to(logits.dtype)
              else:
                  q = (target[:, None] == torch.arange(k, device=logits.device)).to(logits.dtype)
              q = q * (1 - eps) + (1 - q) * eps / (k - 1)
              return -(q * log_p).sum(dim=1).mean()
          """),
    wrong(A, "smoothed_cross_entropy", "a2-smoothed-ce-softmax-without-max-shift",
          "log(exp(z) / sum exp(z)) overflows for logits of 1e4: inf/nan",
          """
          def smoothed_cross_entropy(logits, target, eps=0.0):
              if not 0 <= eps <= 1:
                  raise ValueError(f"bad eps {eps}")
              k = logits.shape[1]
              e = torch.exp(logits)
              log_p = torch.log(e / e.sum(dim=1, keepdim=True))
              if target.is_floating_point():
                  q = target.to(logits.dtype)
              else:
                  q = (target[:, None] == torch.arange(k, device=logits.device)).to(logits.dtype)
              q = (1 - eps) * q + eps / k
              return -(q * log_p).sum(dim=1).mean()
          """),
    wrong(A, "smoothed_cross_entropy", "a2-smoothed-ce-sums-over-the-batch",
          "returns the sum of the per-example losses instead of their mean",
          """
          def smoothed_cross_entropy(logits, target, eps=0.0):
              if not 0 <= eps <= 1:
                  raise ValueError(f"bad eps {eps}")
              k = logits.shape[1]
              log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
              if target.is_floating_point():
                  q = target.to(logits.dtype)
              else:
                  q = (target[:, None] == torch.arange(k, device=logits.device)).to(logits.dtype)
              q = (1 - eps) * q + eps / k
              return -(q * log_p).sum()
          """),
    # ------------------------------------------------------------------ correct alternatives
    correct(A, "dropout", "a2-dropout-with-bernoulli-mask",
            "mask from torch.bernoulli(1 - p) with the generator, survivors divided by 1 - p",
            """
            def dropout(x, p=0.5, training=True, generator=None):
                if not 0.0 <= p <= 1.0:
                    raise ValueError(f"p must be in [0, 1], got {p}")
                if not training:
                    return x.clone()
                if p == 1.0:
                    return torch.zeros_like(x)
                device = generator.device if generator is not None else x.device
                keep = torch.full(x.shape, 1.0 - p, device=device)
                mask = torch.bernoulli(keep, generator=generator).to(device=x.device, dtype=x.dtype)
                return x * mask / (1.0 - p)
            """),
    correct(A, "mixup", "a2-mixup-pairs-by-torch-roll",
            "pairs example i with example i - 1 (torch.roll): another valid permutation",
            _mixup("""
            def mixup(x, y, num_classes, alpha=1.0, generator=None):
                lam = _sample_beta(alpha, generator)
                x_mixed = lam * x + (1 - lam) * torch.roll(x, 1, dims=0)
                onehot = _one_hot(y, num_classes, x.dtype)
                y_soft = lam * onehot + (1 - lam) * torch.roll(onehot, 1, dims=0)
                return x_mixed, y_soft, lam
            """)),
    correct(A, "mixup", "a2-mixup-pairs-with-the-reversed-batch",
            "pairs example i with example N - 1 - i (flip), as some codebases do",
            _mixup("""
            def mixup(x, y, num_classes, alpha=1.0, generator=None):
                lam = _sample_beta(alpha, generator)
                onehot = _one_hot(y, num_classes, x.dtype)
                return (lam * x + (1 - lam) * x.flip(0),
                        lam * onehot + (1 - lam) * onehot.flip(0), lam)
            """)),
    correct(A, "cutmix", "a2-cutmix-box-always-inside",
            "places the box with a uniform top-left corner so it never needs clipping; lam is "
            "still the kept area",
            """
            def cutmix(x, y, num_classes, alpha=1.0, generator=None):
                if x.dim() != 4:
                    raise ValueError("cutmix expects (N, C, H, W)")
                n, _, h, w = x.shape
                lam = _sample_beta(alpha, generator)
                device = generator.device if generator is not None else x.device
                perm = torch.randperm(n, generator=generator, device=device).to(x.device)
                box_h = int(h * math.sqrt(1 - lam))
                box_w = int(w * math.sqrt(1 - lam))
                top = int(torch.randint(h - box_h + 1, (), generator=generator, device=device))
                left = int(torch.randint(w - box_w + 1, (), generator=generator, device=device))
                out = x.clone()
                box = (slice(None), slice(None), slice(top, top + box_h), slice(left, left + box_w))
                out[box] = x[perm][box]
                lam = 1 - box_h * box_w / (h * w)
                onehot = _one_hot(y, num_classes, x.dtype)
                return out, lam * onehot + (1 - lam) * onehot[perm], lam
            """),
    correct(A, "cutout", "a2-cutout-by-slicing-each-image",
            "a Python loop that zeroes a clipped slice per image instead of a broadcast mask",
            """
            def cutout(x, size, generator=None):
                if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                    raise ValueError(f"size must be a non-negative integer, got {size!r}")
                images = x.unsqueeze(0) if x.dim() == 3 else x
                n, _, h, w = images.shape
                device = generator.device if generator is not None else x.device
                cy = torch.randint(h, (n,), generator=generator, device=device).tolist()
                cx = torch.randint(w, (n,), generator=generator, device=device).tolist()
                out = images.clone()
                for i in range(n):
                    top, left = cy[i] - size // 2, cx[i] - size // 2
                    rows = slice(max(top, 0), max(min(top + size, h), 0))
                    cols = slice(max(left, 0), max(min(left + size, w), 0))
                    out[i, :, rows, cols] = 0
                return out[0] if x.dim() == 3 else out
            """),
    correct(A, "smoothed_cross_entropy", "a2-smoothed-ce-with-logsumexp-and-explicit-targets",
            "builds the smoothed target matrix and uses torch.logsumexp for the log-softmax",
            """
            def smoothed_cross_entropy(logits, target, eps=0.0):
                if not 0.0 <= eps <= 1.0:
                    raise ValueError(f"eps must be in [0, 1], got {eps}")
                k = logits.shape[1]
                log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
                if target.is_floating_point():
                    q = target.to(logits.dtype)
                else:
                    q = _one_hot(target, k, logits.dtype)
                q = (1 - eps) * q + eps / k
                return -(q * log_p).sum(dim=1).mean()
            """),
]

# Issue 13: conventions that widely used code follows, each pinned on its own part.
_DROPOUT_HEAD = """
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
"""

ENTRIES += [
    # ------------------------------------------------------------------ wrong: dropout
    wrong(A, "dropout", "a2-dropout-keep-probability-convention",
          "p is the probability of keeping (the lectures' numpy code): keeps with p, scales by "
          "1 / p",
          _DROPOUT_HEAD + """
    if not training or p == 1.0:
        return x
    if p == 0.0:
        return torch.zeros_like(x)
    device = generator.device if generator is not None else x.device
    keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) < p
    return x * keep.to(x.dtype) / p
""", also=("Dropout",)),
    wrong(A, "dropout", "a2-dropout-float32-mask-upcasts-half",
          "x * mask.float() / (1 - p): right for float32/64, float16 and bfloat16 inputs come "
          "back as float32",
          _DROPOUT_HEAD + """
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    device = generator.device if generator is not None else x.device
    mask = (torch.rand(x.shape, generator=generator, device=device) >= p).float()
    return x * mask.to(x.device) / (1 - p)
""", also=("Dropout",)),
    wrong(A, "dropout", "a2-dropout-vanilla-test-time-scaling",
          "vanilla dropout: unscaled in training, multiplied by 1 - p at evaluation",
          _DROPOUT_HEAD + """
    if not training:
        return x * (1 - p)
    device = generator.device if generator is not None else x.device
    keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
    return x * keep.to(x.dtype)
""", also=("Dropout",)),
    wrong(A, "dropout", "a2-dropout-masks-in-place",
          "x.mul_(mask) and returns x: the caller's activations are overwritten",
          _DROPOUT_HEAD + """
    if not training or p == 0.0:
        return x
    device = generator.device if generator is not None else x.device
    keep = torch.rand(x.shape, generator=generator, device=device).to(x.device) >= p
    if p == 1.0:
        return x.mul_(0)
    return x.mul_(keep.to(x.dtype) / (1 - p))
""", also=("Dropout",)),
    # ------------------------------------------------------------------ wrong: mixup
    wrong(A, "mixup", "a2-mixup-per-sample-lambda",
          "one lam per example (a vector): the rows are not mixed with one lam for the batch",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              n = x.shape[0]
              device = generator.device if generator is not None else x.device
              if alpha > 0:
                  lam = torch.distributions.Beta(alpha, alpha).sample((n,)).to(x.device, x.dtype)
              else:
                  lam = torch.ones(n, dtype=x.dtype, device=x.device)
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              shape = (n,) + (1,) * (x.dim() - 1)
              x_mixed = lam.view(shape) * x + (1 - lam.view(shape)) * x[perm]
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              y_soft = lam[:, None] * onehot + (1 - lam[:, None]) * onehot[perm]
              return x_mixed, y_soft, float(lam.mean())
          """)),
    wrong(A, "mixup", "a2-mixup-float32-soft-labels",
          "y_soft always float32: right values, the wrong dtype for float64 and half inputs "
          "(loses only the dtype test)",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              onehot = _one_hot(y, num_classes, torch.float32).to(x.device)
              return (lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm],
                      lam)
          """)),
    wrong(A, "mixup", "a2-mixup-lambda-folded-above-one-half",
          "lam = max(lam, 1 - lam) (some implementations keep the original dominant): lam is "
          "no longer Beta(alpha, alpha)",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              lam = _sample_beta(alpha, generator)
              lam = max(lam, 1 - lam)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return (lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm],
                      lam)
          """)),
    wrong(A, "mixup", "a2-mixup-labels-with-swapped-weights",
          "y_soft = (1 - lam) onehot(y) + lam onehot(y[pi]): the labels' weights are swapped",
          _mixup("""
          def mixup(x, y, num_classes, alpha=1.0, generator=None):
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return (lam * x + (1 - lam) * x[perm], (1 - lam) * onehot + lam * onehot[perm],
                      lam)
          """)),
    # ------------------------------------------------------------------ wrong: cutmix
    wrong(A, "cutmix", "a2-cutmix-lambda-not-recomputed-after-clipping",
          "returns the sampled lam, not the kept area after clipping the box to the image",
          """
          def cutmix(x, y, num_classes, alpha=1.0, generator=None):
              if x.dim() != 4:
                  raise ValueError("cutmix expects (N, C, H, W)")
              n, _, h, w = x.shape
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              cut_h, cut_w = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
              cy = int(torch.randint(h, (), generator=generator, device=device))
              cx = int(torch.randint(w, (), generator=generator, device=device))
              top, left = max(cy - cut_h // 2, 0), max(cx - cut_w // 2, 0)
              bottom, right = min(cy - cut_h // 2 + cut_h, h), min(cx - cut_w // 2 + cut_w, w)
              out = x.clone()
              out[:, :, top:bottom, left:right] = x[perm][:, :, top:bottom, left:right]
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return out, lam * onehot + (1 - lam) * onehot[perm], lam
          """),
    wrong(A, "cutmix", "a2-cutmix-one-box-per-image",
          "a box drawn for each image: the batch does not share one rectangle",
          """
          def cutmix(x, y, num_classes, alpha=1.0, generator=None):
              if x.dim() != 4:
                  raise ValueError("cutmix expects (N, C, H, W)")
              n, _, h, w = x.shape
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              cut_h, cut_w = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
              out = x.clone()
              kept = []
              for i in range(n):
                  cy = int(torch.randint(h, (), generator=generator, device=device))
                  cx = int(torch.randint(w, (), generator=generator, device=device))
                  top, left = max(cy - cut_h // 2, 0), max(cx - cut_w // 2, 0)
                  bottom = min(cy - cut_h // 2 + cut_h, h)
                  right = min(cx - cut_w // 2 + cut_w, w)
                  out[i, :, top:bottom, left:right] = x[perm[i], :, top:bottom, left:right]
                  kept.append(1 - (bottom - top) * (right - left) / (h * w))
              lam = sum(kept) / n
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return out, lam * onehot + (1 - lam) * onehot[perm], lam
          """),
    # ------------------------------------------------------------------ wrong: cutout
    wrong(A, "cutout", "a2-cutout-centre-kept-inside",
          "the square always fits inside the image (centre drawn away from the border): no "
          "square is ever clipped",
          """
          def cutout(x, size, generator=None):
              if x.dim() not in (3, 4):
                  raise ValueError("cutout expects (N, C, H, W) or (C, H, W)")
              if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                  raise ValueError("size must be a non-negative integer")
              images = x.unsqueeze(0) if x.dim() == 3 else x
              n, _, h, w = images.shape
              device = generator.device if generator is not None else x.device
              size_h, size_w = min(size, h), min(size, w)
              top = torch.randint(h - size_h + 1, (n, 1), generator=generator, device=device)
              left = torch.randint(w - size_w + 1, (n, 1), generator=generator, device=device)
              top, left = top.to(x.device), left.to(x.device)
              rows = torch.arange(h, device=x.device)
              cols = torch.arange(w, device=x.device)
              square = (((rows >= top) & (rows < top + size_h))[:, None, :, None]
                        & ((cols >= left) & (cols < left + size_w))[:, None, None, :])
              out = images.masked_fill(square, 0)
              return out.squeeze(0) if x.dim() == 3 else out
          """),
    wrong(A, "cutout", "a2-cutout-float32-mask-multiplies",
          "x * (1 - mask.float()): right for float32/64, half precision comes back as float32",
          """
          def cutout(x, size, generator=None):
              if x.dim() not in (3, 4):
                  raise ValueError("cutout expects (N, C, H, W) or (C, H, W)")
              if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                  raise ValueError("size must be a non-negative integer")
              images = x.unsqueeze(0) if x.dim() == 3 else x
              n, _, h, w = images.shape
              device = generator.device if generator is not None else x.device
              top = torch.randint(h, (n, 1), generator=generator, device=device).to(x.device)
              left = torch.randint(w, (n, 1), generator=generator, device=device).to(x.device)
              top, left = top - size // 2, left - size // 2
              rows = torch.arange(h, device=x.device)
              cols = torch.arange(w, device=x.device)
              square = (((rows >= top) & (rows < top + size))[:, None, :, None]
                        & ((cols >= left) & (cols < left + size))[:, None, None, :])
              out = images * (1 - square.float())
              return out.squeeze(0) if x.dim() == 3 else out
          """),
    # ------------------------------------------------------------------ wrong: label smoothing
    wrong(A, "label_smoothing", "a2-label-smoothing-without-one-minus-eps",
          "onehot + eps / K: the true class is not scaled down, rows sum to 1 + eps",
          """
          def label_smoothing(y, num_classes, eps):
              if not 0.0 <= eps <= 1.0:
                  raise ValueError("eps must be in [0, 1]")
              return _one_hot(y, num_classes, torch.get_default_dtype()) + eps / num_classes
          """),
    wrong(A, "smoothed_cross_entropy", "a2-smoothed-ce-soft-targets-left-unsmoothed",
          "smooths integer targets only; soft (N, K) targets are used as given (torch smooths "
          "them too)",
          """
          def smoothed_cross_entropy(logits, target, eps=0.0):
              if not 0.0 <= eps <= 1.0:
                  raise ValueError("eps must be in [0, 1]")
              k = logits.shape[1]
              log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
              if target.is_floating_point():
                  return -(target.to(logits.dtype) * log_p).sum(dim=1).mean()
              picked = log_p.gather(1, target[:, None]).squeeze(1)
              return (-(1 - eps) * picked - eps * log_p.mean(dim=1)).mean()
          """),
    # ------------------------------------------------------------------ wrong: from mutants
    wrong(A, "mixup", "a2-mixup-default-alpha-from-the-paper",
          "default alpha=0.2, the mixup paper's ImageNet setting, where the contract's default "
          "is 1.0: right whenever alpha is passed",
          _mixup("""
          def mixup(x, y, num_classes, alpha=0.2, generator=None):
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(x.shape[0], generator=generator, device=device).to(x.device)
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return (lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm],
                      lam)
          """)),
    wrong(A, "cutmix", "a2-cutmix-box-sides-without-the-square-root",
          "box sides int(H * (1 - lam)) and int(W * (1 - lam)): the box covers about "
          "(1 - lam)^2 of the image; lam is still recomputed as the kept area",
          """
          def cutmix(x, y, num_classes, alpha=1.0, generator=None):
              if x.dim() != 4:
                  raise ValueError("cutmix expects (N, C, H, W)")
              n, _, h, w = x.shape
              lam = _sample_beta(alpha, generator)
              device = generator.device if generator is not None else x.device
              perm = torch.randperm(n, generator=generator, device=device).to(x.device)
              cut_h, cut_w = int(h * (1 - lam)), int(w * (1 - lam))
              cy = int(torch.randint(h, (), generator=generator, device=device))
              cx = int(torch.randint(w, (), generator=generator, device=device))
              top, left = max(cy - cut_h // 2, 0), max(cx - cut_w // 2, 0)
              bottom, right = min(cy - cut_h // 2 + cut_h, h), min(cx - cut_w // 2 + cut_w, w)
              out = x.clone()
              out[:, :, top:bottom, left:right] = x[perm][:, :, top:bottom, left:right]
              lam = 1 - (bottom - top) * (right - left) / (h * w)
              onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
              return out, lam * onehot + (1 - lam) * onehot[perm], lam
          """),
    wrong(A, "cutout", "a2-cutout-random-point-is-the-corner",
          "the uniform point is the square's top-left corner (rows c .. c + size - 1, clipped), "
          "not its centre: near the bottom border only a sliver of the square is left",
          """
          def cutout(x, size, generator=None):
              if x.dim() not in (3, 4):
                  raise ValueError("cutout expects (N, C, H, W) or (C, H, W)")
              if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                  raise ValueError("size must be a non-negative integer")
              images = x.unsqueeze(0) if x.dim() == 3 else x
              out = images.clone()
              _, _, h, w = images.shape
              device = generator.device if generator is not None else x.device
              for i in range(images.shape[0]):
                  top = int(torch.randint(h, (), generator=generator, device=device))
                  left = int(torch.randint(w, (), generator=generator, device=device))
                  out[i, :, top:top + size, left:left + size] = 0
              return out.squeeze(0) if x.dim() == 3 else out
          """),
    # ------------------------------------------------------------------ correct
    correct(A, "dropout", "a2-ok-dropout-bernoulli-keep-mask",
            "torch.bernoulli of the keep probability with the generator, then x * mask / (1 - p)",
            _DROPOUT_HEAD + """
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0
    device = generator.device if generator is not None else x.device
    keep = torch.bernoulli(torch.full(x.shape, 1 - p, device=device), generator=generator)
    return x * (keep.to(x.device, x.dtype) / (1 - p))
"""),
    correct(A, "mixup", "a2-ok-mixup-reversed-batch",
            "pairs the batch with its reverse (x.flip(0)), a permutation the contract allows",
            _mixup("""
            def mixup(x, y, num_classes, alpha=1.0, generator=None):
                lam = _sample_beta(alpha, generator)
                onehot = _one_hot(y, num_classes, x.dtype).to(x.device)
                return (lam * x + (1 - lam) * x.flip(0),
                        lam * onehot + (1 - lam) * onehot.flip(0), lam)
            """)),
    correct(A, "label_smoothing", "a2-ok-label-smoothing-full-and-scatter",
            "torch.full of eps / K, then scatter of 1 - eps + eps / K at the labels",
            """
            def label_smoothing(y, num_classes, eps):
                if not 0.0 <= eps <= 1.0:
                    raise ValueError("eps must be in [0, 1]")
                _one_hot(y, num_classes, torch.float32)  # validates the labels
                out = torch.full((y.shape[0], num_classes), eps / num_classes, device=y.device)
                return out.scatter(1, y[:, None].long(), 1 - eps + eps / num_classes)
            """),
    correct(A, "smoothed_cross_entropy", "a2-ok-smoothed-ce-logsumexp",
            "torch.logsumexp and an explicit smoothed target for both kinds of target",
            """
            def smoothed_cross_entropy(logits, target, eps=0.0):
                if not 0.0 <= eps <= 1.0:
                    raise ValueError("eps must be in [0, 1]")
                k = logits.shape[1]
                log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
                if target.is_floating_point():
                    q = target.to(logits.dtype)
                else:
                    q = _one_hot(target, k, logits.dtype).to(logits.device)
                q = (1 - eps) * q + eps / k
                return -(q * log_p).sum(dim=1).mean()
            """),
    correct(A, "cutout", "a2-ok-cutout-loop-over-images",
            "a Python loop over the images, slicing each square (clipped by slicing)",
            """
            def cutout(x, size, generator=None):
                if x.dim() not in (3, 4):
                    raise ValueError("cutout expects (N, C, H, W) or (C, H, W)")
                if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                    raise ValueError("size must be a non-negative integer")
                images = x.unsqueeze(0) if x.dim() == 3 else x
                out = images.clone()
                _, _, h, w = images.shape
                device = generator.device if generator is not None else x.device
                for i in range(images.shape[0]):
                    cy = int(torch.randint(h, (), generator=generator, device=device))
                    cx = int(torch.randint(w, (), generator=generator, device=device))
                    top, left = max(cy - size // 2, 0), max(cx - size // 2, 0)
                    bottom, right = cy - size // 2 + size, cx - size // 2 + size
                    out[i, :, top:bottom, left:right] = 0
                return out.squeeze(0) if x.dim() == 3 else out
            """),
]
