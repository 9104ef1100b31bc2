"""Private helpers shared by the :mod:`nntrain.augment` modules: batch views, size pairs,
per-image values and the seeded random draws.

Every draw takes an optional ``torch.Generator`` and is made on the generator's own device
(see :func:`nntrain.regularization.uniform`), so a CPU generator gives the same numbers for
CPU and CUDA batches.
"""

from __future__ import annotations

import torch

from nntrain.regularization import uniform

Number = float | torch.Tensor
Size = int | tuple[int, int]


def _as_batch(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(N, C, H, W) view of ``x`` and whether it was a single (C, H, W) image."""
    if x.dim() == 3:
        return x.unsqueeze(0), True
    if x.dim() != 4:
        raise ValueError(f"expected (C, H, W) or (N, C, H, W) images, got {tuple(x.shape)}")
    return x, False


def _unbatch(x: torch.Tensor, single: bool) -> torch.Tensor:
    return x.squeeze(0) if single else x


def _pair(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _per_image(value: Number, x: torch.Tensor) -> torch.Tensor:
    """A scalar or (N,) tensor of per-image values, shaped (N, 1, 1, 1) in x's dtype/device."""
    v = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    return v.reshape(-1, 1, 1, 1) if v.dim() > 0 else v


def _normal(shape: tuple[int, ...], generator: torch.Generator | None, device) -> torch.Tensor:
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


def _uniform(shape, low, high, generator, device) -> torch.Tensor:
    """U[low, high) in float64 (low/high may be tensors broadcasting with ``shape``)."""
    return low + (high - low) * uniform(shape, generator, device, torch.float64)


def _randint(high: torch.Tensor | int, shape, generator, device) -> torch.Tensor:
    """Integers uniform in {0, ..., high-1} (``high`` may be a tensor broadcasting with shape)."""
    u = uniform(shape, generator, device, torch.float64)
    high = torch.as_tensor(high, device=device)
    return torch.minimum((u * high).floor(), high - 1).long()


def _permutation(n: int, generator: torch.Generator | None, device) -> torch.Tensor:
    if generator is None:
        return torch.randperm(n).to(device)
    return torch.randperm(n, generator=generator, device=generator.device).to(device)


def _vector(value: Number, n: int, device) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float64, device=device).expand(n).clone()

