"""The safe value format between the grader and the sandboxed child.

Values cross the process boundary as one *frame*: a JSON header describing the
value tree plus the raw bytes of every tensor.  Nothing is ever unpickled, so a
hostile child cannot make the grader run code by what it sends back (a tensor
subclass or an object with ``__reduce__`` arrives as plain data or not at all).

Frame layout (all integers little-endian)::

    b"NNTG" | u64 body length | body
    body = u32 header length | header (UTF-8 JSON) | u32 buffer count | u64 length * count | buffers

Value tree in the header: ``null``, booleans, numbers (ints of any size, floats
including nan and inf) and strings stand for themselves; everything else is a
JSON array whose first element is a tag:

=========================  =========================================================
``["l", x, ...]``          list
``["t", x, ...]``          tuple
``{"k": v, ...}``          dict whose keys are all strings
``["d", [k, v], ...]``     any other dict (keys may be any hashable transportable value)
``["c", re, im]``          complex
``["T", i, dtype, shape, device, requires_grad]``  tensor, raw bytes in buffer ``i``
``["dt", name]``           ``torch.dtype``
``["dev", "cuda:0"]``      ``torch.device``
``["g", device, i]``       ``torch.Generator``: its device and ``get_state()`` bytes
``["tab", values]``        :class:`Table`
``["h", id, ...]``         a handle to an object that stays in the child
``["b", i]``               bytes
=========================  =========================================================

Both sides use this one module (the child loads it by path; see this folder's
``__init__``), so :class:`TransportError` is one class on both sides.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from typing import Any


class TransportError(ValueError):
    """A value could not be encoded or decoded in the safe format (a hostile or broken frame)."""


MAGIC = b"NNTG"
_PREFIX = struct.Struct("<4sQ")
PREFIX_SIZE = _PREFIX.size
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# Decoding limits: a frame from the child is hostile until proven otherwise.  The header's
# size and its count of containers and separators are checked before json.loads, so what
# the JSON expands to stays bounded too (about 100 bytes of Python objects per node).
MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_HEADER = 8 * 1024 * 1024
MAX_TENSOR_DIMS = 32


class Table:
    """A lookup table that the child turns into the callable ``t -> values[t]``.

    Used to pass a learning-rate schedule to a student's ``warmup``: the suite
    evaluates the schedule in the parent, sends the table, and the student's code
    calls it like a function.
    """

    def __init__(self, values: Sequence[Any] | dict[Any, Any]) -> None:
        self.values = values if isinstance(values, dict) else list(values)

    def __call__(self, t: Any) -> Any:
        if isinstance(self.values, list):
            index = t
            if isinstance(index, float) and index.is_integer():
                index = int(index)
            if not isinstance(index, int) or isinstance(index, bool):
                try:
                    index = int(index.__index__())  # e.g. a 0-d integer tensor
                except (AttributeError, TypeError):
                    raise TypeError(f"the schedule takes an integer step, got {t!r}") from None
            if index < 0:
                raise IndexError(f"the schedule is defined for steps t >= 0, got {t}")
            return self.values[index]
        return self.values[t]

    def __repr__(self) -> str:
        return f"Table({len(self.values)} values)"


class HandleRef:
    """What a handle becomes when the decoder has no ``make_handle`` hook: its raw fields."""

    def __init__(self, fields: list[Any]) -> None:
        self.fields = fields

    def __repr__(self) -> str:
        return f"HandleRef({self.fields!r})"


_SNAPSHOT: Any = None


def _torch() -> Any:
    """What this module uses of torch, captured once.

    In the child the capture happens before any student code runs, so a submission
    that patches ``torch.Tensor.detach`` or ``torch.frombuffer`` cannot change how
    values are encoded (tensor methods are taken from the C base class, which
    cannot be patched).
    """
    global _SNAPSHOT
    if _SNAPSHOT is None:
        import types

        import torch

        base = getattr(torch._C, "TensorBase", None) or torch._C._TensorBase
        names = ("detach", "is_conj", "resolve_conj", "is_neg", "resolve_neg", "to",
                 "contiguous", "reshape", "view", "numpy", "numel", "requires_grad_", "cpu")
        _SNAPSHOT = types.SimpleNamespace(
            Tensor=torch.Tensor, dtype=torch.dtype, device=torch.device,
            Generator=torch.Generator, strided=torch.strided, uint8=torch.uint8,
            frombuffer=torch.frombuffer, empty=torch.empty,
            dtypes={name: value for name, value in vars(torch).items()
                    if isinstance(value, torch.dtype)},
            **{name: getattr(base, name) for name in names})
    return _SNAPSHOT


# ----------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self, on_unknown: Callable[[Any], list[Any]] | None,
                 generators: list[Any] | None = None) -> None:
        self.torch = _torch()
        self.buffers: list[bytes] = []
        self.on_unknown = on_unknown
        self.generators = generators if generators is not None else []
        self.nodes = 0

    def buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def tensor_bytes(self, tensor: Any) -> bytes:
        t = self.torch
        flat = t.detach(tensor)
        if t.is_conj(flat):
            flat = t.resolve_conj(flat)
        if t.is_neg(flat):
            flat = t.resolve_neg(flat)
        if flat.device.type != "cpu":
            flat = t.cpu(flat)
        flat = t.reshape(t.contiguous(flat), (-1,))
        if t.numel(flat) == 0:
            return b""
        return t.numpy(t.view(flat, t.uint8)).tobytes()

    def encode(self, value: Any, depth: int = 0) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            return value  # the common case first: no isinstance chains
        if depth > MAX_DEPTH:
            raise TransportError(f"value is nested more than {MAX_DEPTH} levels deep")
        if kind is list:
            return ["l", *[self.encode(item, depth + 1) for item in value]]
        if kind is tuple:
            return ["t", *[self.encode(item, depth + 1) for item in value]]
        if kind is dict and all(type(key) is str for key in value):
            return {key: self.encode(item, depth + 1) for key, item in value.items()}
        torch = self.torch
        if isinstance(value, torch.Tensor):
            return self.encode_tensor(value)
        if isinstance(value, bool | str):
            return _plain(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, complex):
            return ["c", float(value.real), float(value.imag)]
        if isinstance(value, torch.dtype):
            return ["dt", str(value).removeprefix("torch.")]
        if isinstance(value, torch.device):
            return ["dev", str(value)]
        if isinstance(value, torch.Generator):
            state = value.get_state()
            self.generators.append(value)
            return ["g", str(value.device), self.buffer(self.tensor_bytes(state))]
        if isinstance(value, Table):
            return ["tab", self.encode(value.values, depth + 1)]
        if isinstance(value, bytes | bytearray):
            return ["b", self.buffer(bytes(value))]
        if isinstance(value, list | tuple):  # torch.Size and named tuples travel as tuples
            tag = "l" if isinstance(value, list) else "t"
            return [tag, *[self.encode(item, depth + 1) for item in value]]
        if isinstance(value, dict):
            return ["d", *[[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                           for k, v in value.items()]]
        if self.on_unknown is not None:
            return self.on_unknown(value)
        raise TransportError(f"cannot send a value of type {type(value).__qualname__}")

    def encode_tensor(self, tensor: Any) -> list[Any]:
        torch = self.torch
        if tensor.layout != torch.strided:
            raise TransportError(f"cannot send a tensor with layout {tensor.layout}")
        if tensor.is_quantized:
            raise TransportError("cannot send a quantized tensor")
        dtype = str(tensor.dtype).removeprefix("torch.")
        shape = [int(n) for n in tensor.shape]
        device = str(tensor.device)
        index = -1 if tensor.device.type == "meta" else self.buffer(self.tensor_bytes(tensor))
        return ["T", index, dtype, shape, device, bool(tensor.requires_grad)]


def _plain(value: Any) -> Any:
    """A str or bool subclass travels as the plain value (its class stays behind)."""
    return bool(value) if isinstance(value, bool) else str.__str__(value)


def encode(value: Any, *, on_unknown: Callable[[Any], list[Any]] | None = None,
           generators: list[Any] | None = None) -> bytes:
    """One frame holding ``value``.

    ``on_unknown(obj)`` encodes anything else (as a handle); every ``torch.Generator``
    met is appended to ``generators`` in traversal order (the decoder's order too).
    """
    encoder = _Encoder(on_unknown, generators)
    tree = encoder.encode(value)
    try:
        header = json.dumps(tree, allow_nan=True, separators=(",", ":")).encode("utf-8",
                                                                              "surrogatepass")
    except (TypeError, ValueError) as error:
        raise TransportError(f"cannot encode the value: {error}") from None
    parts = [_U32.pack(len(header)), header, _U32.pack(len(encoder.buffers))]
    parts.extend(_U64.pack(len(buf)) for buf in encoder.buffers)
    parts.extend(encoder.buffers)
    body = b"".join(parts)
    return _PREFIX.pack(MAGIC, len(body)) + body


def frame_length(prefix: bytes) -> int:
    """Length of the body that follows a frame prefix (raises if it is not a frame)."""
    if len(prefix) != PREFIX_SIZE:
        raise TransportError("truncated frame")
    magic, length = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise TransportError("not a frame of the grader's format (wrong magic bytes)")
    return length


# ----------------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, buffers: list[memoryview],
                 make_handle: Callable[[list[Any]], Any] | None,
                 make_table: Callable[[Any], Any] | None,
                 generators: list[Any] | None = None) -> None:
        self.torch = _torch()
        self.generators = generators if generators is not None else []
        self.buffers = buffers
        self.make_handle = make_handle
        self.make_table = make_table
        self.nodes = 0

    def buffer(self, index: Any) -> memoryview:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise TransportError(f"frame refers to a missing buffer {index!r}")
        return self.buffers[index]

    def dtype(self, name: Any) -> Any:
        torch = self.torch
        dtype = torch.dtypes.get(name) if isinstance(name, str) else None
        if not isinstance(dtype, torch.dtype):
            raise TransportError(f"unknown dtype {name!r}")
        return dtype

    def device(self, name: Any) -> Any:
        if not isinstance(name, str) or len(name) > 32:
            raise TransportError(f"bad device {name!r}")
        try:
            return self.torch.device(name)
        except (RuntimeError, ValueError):
            raise TransportError(f"bad device {name!r}") from None

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        kind = type(node)
        if kind is str:
            return node if node.isascii() else _clean(node)
        if kind is int or kind is float or kind is bool or node is None:
            return node
        if self.nodes > MAX_NODES:
            raise TransportError(f"value has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise TransportError(f"value is nested more than {MAX_DEPTH} levels deep")
        if kind is dict:  # a dict whose keys are all strings
            return {self.decode(key): self.decode(item, depth + 1) for key, item in node.items()}
        if type(node) is not list or not node or type(node[0]) is not str:
            raise TransportError("malformed value in frame")
        tag, args = node[0], node[1:]
        if tag == "l":
            return [self.decode(item, depth + 1) for item in args]
        if tag == "t":
            return tuple(self.decode(item, depth + 1) for item in args)
        if tag == "d":
            out = {}
            for pair in args:
                if type(pair) is not list or len(pair) != 2:
                    raise TransportError("malformed dict in frame")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError:
                    raise TransportError("unhashable dict key in frame") from None
            return out
        if tag == "c" and len(args) == 2 and all(type(a) in (int, float) for a in args):
            return complex(args[0], args[1])
        if tag == "T" and len(args) == 5:
            return self.tensor(*args)
        if tag == "dt" and len(args) == 1:
            return self.dtype(args[0])
        if tag == "dev" and len(args) == 1:
            return self.device(args[0])
        if tag == "g" and len(args) == 2:
            return self.generator(*args)
        if tag == "tab" and len(args) == 1:
            values = self.decode(args[0], depth + 1)
            if not isinstance(values, list | dict):
                raise TransportError("a table holds a list or a dict")
            return self.make_table(values) if self.make_table else Table(values)
        if tag == "b" and len(args) == 1:
            return bytes(self.buffer(args[0]))
        if tag == "h":
            fields = [self.decode(a, depth + 1) for a in args]
            return self.make_handle(fields) if self.make_handle else HandleRef(fields)
        raise TransportError(f"unknown tag {tag!r} in frame")

    def tensor(self, index: Any, dtype_name: Any, shape: Any, device_name: Any,
               requires_grad: Any) -> Any:
        torch = self.torch
        dtype = self.dtype(dtype_name)
        device = self.device(device_name)
        if (type(shape) is not list or len(shape) > MAX_TENSOR_DIMS
                or any(type(n) is not int or n < 0 for n in shape)):
            raise TransportError("bad tensor shape in frame")
        if type(requires_grad) is not bool:
            raise TransportError("bad requires_grad flag in frame")
        numel = 1
        for n in shape:
            numel *= n
        if device.type == "meta":
            if index != -1:
                raise TransportError("a meta tensor carries no data")
            return torch.empty(shape, dtype=dtype, device=device)
        data = self.buffer(index)
        if len(data) != numel * dtype.itemsize:
            raise TransportError(
                f"tensor data has {len(data)} bytes, expected {numel * dtype.itemsize}")
        if numel == 0:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8)
            tensor = torch.reshape(torch.view(tensor, dtype), shape)
        if device.type != "cpu":
            tensor = torch.to(tensor, device)
        if requires_grad:
            if not (dtype.is_floating_point or dtype.is_complex):
                raise TransportError("only floating tensors can require grad")
            torch.requires_grad_(tensor, True)
        return tensor

    def generator(self, device_name: Any, index: Any) -> Any:
        torch = self.torch
        device = self.device(device_name)
        data = self.buffer(index)
        if not data:
            raise TransportError("empty generator state")
        state = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        generator = torch.Generator(device=device)
        try:
            generator.set_state(state)
        except (RuntimeError, ValueError, TypeError) as error:
            raise TransportError(f"bad generator state: {error}") from None
        self.generators.append(generator)
        return generator


def _clean(text: str) -> str:
    """``text`` with lone surrogates replaced ("?"): every string decoded can be written."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def decode(body: bytes | bytearray | memoryview, *,
           make_handle: Callable[[list[Any]], Any] | None = None,
           make_table: Callable[[Any], Any] | None = None,
           generators: list[Any] | None = None) -> Any:
    """The value of a frame body (the bytes after the prefix).

    Raises :class:`TransportError` when the body is malformed; generators built
    while decoding are appended to ``generators``.
    """
    view = memoryview(body)
    try:
        (header_len,) = _U32.unpack_from(view, 0)
        if header_len > MAX_HEADER:
            raise TransportError(f"frame header larger than {MAX_HEADER} bytes")
        offset = _U32.size
        header = bytes(view[offset:offset + header_len])
        if len(header) != header_len:
            raise TransportError("truncated frame header")
        offset += header_len
        (count,) = _U32.unpack_from(view, offset)
        offset += _U32.size
        if count > (len(view) - offset) // _U64.size:
            raise TransportError("frame declares more buffers than it holds")
        lengths = [_U64.unpack_from(view, offset + i * _U64.size)[0] for i in range(count)]
        offset += count * _U64.size
        if offset + sum(lengths) != len(view):
            raise TransportError("frame length does not match its buffers")
        buffers = []
        for length in lengths:
            buffers.append(view[offset:offset + length])
            offset += length
    except struct.error:
        raise TransportError("truncated frame") from None
    if header.count(b",") + header.count(b"[") + header.count(b"{") > MAX_NODES:
        raise TransportError(f"value has more than {MAX_NODES} parts")
    try:
        tree = json.loads(header.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TransportError("frame header is not valid JSON") from None
    try:
        return _Decoder(buffers, make_handle, make_table, generators).decode(tree)
    except RecursionError:
        raise TransportError("value is nested too deeply") from None


def loads(frame: bytes | bytearray | memoryview, **hooks: Any) -> Any:
    """Decode a whole frame (prefix included)."""
    view = memoryview(frame)
    length = frame_length(bytes(view[:PREFIX_SIZE]))
    if length != len(view) - PREFIX_SIZE:
        raise TransportError("frame length does not match its prefix")
    return decode(view[PREFIX_SIZE:], **hooks)


dumps = encode
