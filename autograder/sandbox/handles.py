"""What comes back from a call in the child besides plain values: handles and call information.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograder.errors import StudentError

if TYPE_CHECKING:
    from autograder.sandbox.session import Sandbox


class Handle:
    """An object that stays in the child (a closure, an ``nn.Module``, ...).

    Calling it, reading ``handle.attr`` and calling ``handle.method(...)`` run in
    the child; ``type_names`` lists the fully-qualified names of its classes (MRO).
    """

    __slots__ = ("_sandbox", "_id", "_generation", "type_names")

    def __init__(self, sandbox: Sandbox, handle_id: int, generation: int,
                 type_names: list[str]) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_id", handle_id)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "type_names", list(type_names))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.call(self, args, kwargs).value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._sandbox.request({"op": "getattr", "target": self, "name": name},
                                     where=f"{self._short()}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._sandbox.request({"op": "setattr", "target": self, "name": name, "value": value},
                              where=f"{self._short()}.{name}")

    def __iter__(self) -> Iterator[Any]:
        return iter(self._sandbox.request({"op": "iter", "target": self}, where=self._short()))

    def __len__(self) -> int:
        try:
            return int(self._sandbox.request({"op": "len", "target": self}, where=self._short()))
        except StudentError as error:
            if error.type_name == "TypeError":  # no len(): list(handle) must still work
                raise TypeError(error.message) from None
            raise

    def __getitem__(self, key: Any) -> Any:
        return self._sandbox.request({"op": "getitem", "target": self, "key": key},
                                     where=self._short())

    def _short(self) -> str:
        return self.type_names[0].rsplit(".", 1)[-1] if self.type_names else "object"

    def __repr__(self) -> str:
        return f"<Handle to a {self.type_names[0] if self.type_names else 'object'} in the sandbox>"


@dataclass
class CallInfo:
    """What a call did besides returning ``value`` (see autograder/DESIGN.md).

    ``args_after``/``kwargs_after``: the arguments as the child saw them after the
    call; ``modified``: the positions and names of arguments the call changed (bit
    for bit); ``returned_arg``: the position of an argument returned as the value
    itself; ``value_requires_grad``: whether a returned tensor requires grad;
    ``received_after``: the very tensor objects the call received (in the order of
    :func:`tensors_in` over ``[args, kwargs]``) as they are after it, so an in-place
    write shows even where the call rebound the slot that held the tensor.
    """

    value: Any
    args_after: tuple[Any, ...] = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    modified: set[int | str] = field(default_factory=set)
    returned_arg: int | None = None
    value_requires_grad: bool = False
    received_after: list[Any] = field(default_factory=list)


def tensors_in(value: Any, depth: int = 0) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if depth < 64 and isinstance(value, list | tuple):
        return [t for item in value for t in tensors_in(item, depth + 1)]
    if depth < 64 and isinstance(value, dict):
        return [t for item in value.values() for t in tensors_in(item, depth + 1)]
    return []


def changed(before: Any, after: Any) -> bool:
    """Whether a value sent to the child came back different (tensors compared bit for bit)."""
    import torch

    if isinstance(before, torch.Tensor):
        if not isinstance(after, torch.Tensor) or before.shape != after.shape \
                or before.dtype != after.dtype:
            return True
        if before.numel() == 0:
            return False
        flat = before.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8)
        other = after.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8)
        return not torch.equal(flat, other)
    if isinstance(before, list | tuple):
        return (not isinstance(after, list | tuple) or len(before) != len(after)
                or any(changed(x, y) for x, y in zip(before, after, strict=True)))
    if isinstance(before, dict):
        return (not isinstance(after, dict) or before.keys() != after.keys()
                or any(changed(before[k], after[k]) for k in before))
    return False
