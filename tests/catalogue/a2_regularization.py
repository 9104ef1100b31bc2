"""Catalogue of a2_regularization: dropout, mixup, CutMix, Cutout and label smoothing."""

from __future__ import annotations

import textwrap

from . import correct, wrong

A = "a2_regularization"

# The mixup cell of the solution also defines the helpers that cutmix and label_smoothing use.
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
