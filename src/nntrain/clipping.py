"""Gradient clipping: by global norm and by value.

Call between ``loss.backward()`` and ``optimizer.step()``: backward fills the
gradients, clipping rescales them, the step uses the rescaled ones.

Both functions take either parameters (their ``.grad`` is used; parameters
without a gradient are skipped, as in ``torch.nn.utils``) or the gradient
tensors themselves (any tensor that does not require grad and has no
``.grad``), and modify the gradients in place.

Public names: total_norm, clip_grad_norm, clip_grad_value.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

__all__ = ["total_norm", "clip_grad_norm", "clip_grad_value"]

TensorOrTensors = torch.Tensor | Iterable[torch.Tensor]


def _gradients(tensors: TensorOrTensors) -> list[torch.Tensor]:
    """The gradient tensors named by ``tensors`` (a tensor, parameters, or gradients)."""
    if isinstance(tensors, torch.Tensor):
        tensors = [tensors]
    grads = []
    for t in tensors:
        if t.grad is not None:
            grads.append(t.grad)
        elif not t.requires_grad:  # a gradient passed directly
            grads.append(t)
    return grads


def total_norm(tensors: TensorOrTensors, norm_type: float = 2.0) -> torch.Tensor:
    r"""The norm of all gradients taken together as one long vector.

    .. math:: \|g\|_p = \Big(\sum_i \|g_i\|_p^p\Big)^{1/p}
              = \big\|\,(\|g_1\|_p, \ldots, \|g_n\|_p)\,\big\|_p

    and :math:`\max_i \|g_i\|_\infty` for ``norm_type=inf``.  Returns a 0-d
    tensor on the first gradient's device (0.0 when there is no gradient).
    """
    grads = _gradients(tensors)
    if not grads:
        return torch.tensor(0.0)
    norm_type = float(norm_type)
    device = grads[0].device
    per_tensor = [torch.linalg.vector_norm(g, norm_type).to(device) for g in grads]
    return torch.linalg.vector_norm(torch.stack(per_tensor), norm_type)


def clip_grad_norm(
    tensors: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> torch.Tensor:
    r"""Rescale all gradients together so that their total norm is at most ``max_norm``.

    .. math:: g \leftarrow g \cdot \min\!\left(1, \frac{c}{\|g\| + 10^{-6}}\right)

    The direction of the combined gradient is kept; only its length is
    capped (the 1e-6 guards the division, as in PyTorch).  Returns the total
    norm *before* clipping (:func:`total_norm`), which is worth logging.
    Pascanu, Mikolov & Bengio, 2013, "On the difficulty of training recurrent
    neural networks".  Same semantics as ``torch.nn.utils.clip_grad_norm_``.
    """
    grads = _gradients(tensors)
    norm = total_norm(grads, norm_type)
    if not grads:
        return norm
    if error_if_nonfinite and not torch.isfinite(norm):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is non-finite ({norm.item()}),"
            " so it cannot be clipped; pass error_if_nonfinite=False to scale anyway"
        )
    coef = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.device, g.dtype))
    return norm


def clip_grad_value(tensors: TensorOrTensors, clip_value: float) -> None:
    r"""Clamp every gradient entry to :math:`[-c, c]`, in place.

    .. math:: g_i \leftarrow \max(-c, \min(c, g_i))

    Unlike norm clipping this changes the direction of the gradient: large
    coordinates are cut, small ones kept.  Same semantics as
    ``torch.nn.utils.clip_grad_value_``.
    """
    clip_value = float(clip_value)
    for g in _gradients(tensors):
        g.clamp_(min=-clip_value, max=clip_value)
