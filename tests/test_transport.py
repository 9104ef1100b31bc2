"""The safe value format between grader and sandbox: exact round trips, hostile frames refused."""

from __future__ import annotations

import json
import math
import pickle
import struct

import pytest
import torch

from autograder.errors import TransportError
from autograder.sandbox.inside import transport
from autograder.sandbox.inside.transport import Table, decode, encode, loads


def roundtrip(value, **hooks):
    return loads(encode(value), **hooks)


def same(a, b) -> bool:
    """Equality that also compares tensors bit for bit, dtypes and container types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return (a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
                and a.requires_grad == b.requires_grad
                and torch.equal(a.detach().reshape(-1).view(torch.uint8),
                                b.detach().reshape(-1).view(torch.uint8)))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 10**40, 1.5, -0.0, float("inf"), float("-inf"), float("nan"),
    1e-310, 2 + 3j, "", "héllo \x00", b"\x00\xff",
    [1, [2, (3, 4)], {"a": None}], (), [], {}, {1: "x", (2, 3): [4.0], "k": {"n": ()}},
    torch.float64, torch.bfloat16, torch.int8, torch.device("cpu"), torch.device("meta"),
])
def test_plain_values_round_trip_exactly(value):
    assert same(roundtrip(value), value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16,
                                   torch.complex64, torch.complex128, torch.int64, torch.int32,
                                   torch.int16, torch.int8, torch.uint8, torch.bool])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4), (1, 0, 5)])
def test_tensors_round_trip_bit_for_bit(dtype, shape):
    generator = torch.Generator().manual_seed(0)
    if dtype == torch.bool:
        tensor = torch.rand(shape, generator=generator) > 0.5
    elif dtype.is_floating_point or dtype.is_complex:
        tensor = torch.randn(shape, generator=generator, dtype=dtype)
    else:
        tensor = torch.randint(-100 if dtype != torch.uint8 else 0, 100, shape,
                               generator=generator, dtype=dtype)
    assert same(roundtrip(tensor), tensor)


def test_special_float_bits_and_views_survive():
    base = torch.tensor([float("nan"), -0.0, float("inf"), 1e-45, -1e38])
    assert same(roundtrip(base), base)
    strided = torch.arange(24.0).reshape(4, 6)[:, ::2].t()  # not contiguous
    assert torch.equal(roundtrip(strided), strided)
    conjugated = torch.tensor([1 + 2j]).conj()  # a lazy conjugate view
    assert torch.equal(roundtrip(conjugated), torch.tensor([1 - 2j]))


def test_requires_grad_travels_but_the_graph_does_not():
    leaf = torch.randn(3, requires_grad=True)
    out = roundtrip(leaf * 2)
    assert out.requires_grad and out.grad_fn is None
    assert not roundtrip(torch.randn(3)).requires_grad


def test_tensor_subclasses_arrive_as_plain_tensors():
    parameter = torch.nn.Parameter(torch.ones(2))
    out = roundtrip(parameter)
    assert type(out) is torch.Tensor and out.requires_grad

    class Sneaky(torch.Tensor):
        def __reduce_ex__(self, protocol):  # would run on unpickling, never here
            raise AssertionError("__reduce_ex__ must not be used")

    sneaky = torch.ones(2).as_subclass(Sneaky)
    assert type(roundtrip(sneaky)) is torch.Tensor


def test_generator_state_round_trips():
    generator = torch.Generator().manual_seed(1234)
    torch.rand(5, generator=generator)
    collected: list[torch.Generator] = []
    copy = loads(encode(generator), generators=collected)
    assert collected == [copy]
    assert torch.equal(torch.rand(4, generator=copy), torch.rand(4, generator=generator))


def test_generators_are_listed_in_the_same_order_both_ways():
    first, second = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    sent: list[torch.Generator] = []
    received: list[torch.Generator] = []
    loads(encode({"a": [first, 3], "b": (second,)}, generators=sent), generators=received)
    assert sent == [first, second]
    assert [g.initial_seed() for g in received] == [1, 2]


def test_table_becomes_a_callable():
    table = roundtrip(Table([0.1, 0.2, 0.3]))
    assert table(0) == 0.1 and table(2) == 0.3 and table(1.0) == 0.2
    assert table(torch.tensor(1)) == 0.2
    with pytest.raises(IndexError):
        table(-1)
    with pytest.raises(TypeError):
        table("1")


def test_string_keyed_dicts_are_plain_json_objects():
    frame = encode({"op": "call", "args": [1, "x"]})
    assert b'{"op":"call","args":["l",1,"x"]}' in frame
    assert loads(frame) == {"op": "call", "args": [1, "x"]}


def test_unknown_objects_need_a_hook():
    with pytest.raises(TransportError, match="cannot send"):
        encode(object())
    frame = encode([object()], on_unknown=lambda obj: ["h", 7, ["l", "builtins.object"]])
    handle = loads(frame)[0]
    assert isinstance(handle, transport.HandleRef) and handle.fields == [7, ["builtins.object"]]
    assert loads(frame, make_handle=lambda fields: ("handle", fields[0])) == [("handle", 7)]


def test_a_pickled_payload_is_refused():
    for payload in (pickle.dumps([1, 2]), pickle.dumps(torch.ones(2))):
        with pytest.raises(TransportError, match="magic"):
            loads(payload)
    # Even inside a well-formed frame, pickle bytes are just bytes, never unpickled.
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle ran')",))
    frame = encode(pickle.dumps(Boom()))
    assert isinstance(loads(frame), bytes)


def _frame(header, buffers=()):
    body = json.dumps(header).encode()
    parts = [struct.pack("<I", len(body)), body, struct.pack("<I", len(buffers))]
    parts += [struct.pack("<Q", len(b)) for b in buffers]
    parts += list(buffers)
    data = b"".join(parts)
    return transport.MAGIC + struct.pack("<Q", len(data)) + data


@pytest.mark.parametrize("header, buffers, match", [
    (["T", 0, "float32", [2], "cpu", False], [b"\x00" * 7], "bytes"),
    (["T", 3, "float32", [1], "cpu", False], [b"\x00" * 4], "missing buffer"),
    (["T", 0, "__class__", [1], "cpu", False], [b"\x00" * 4], "dtype"),
    (["T", 0, "Tensor", [1], "cpu", False], [b"\x00" * 4], "dtype"),
    (["T", 0, "int64", [1], "cpu", True], [b"\x00" * 8], "grad"),
    (["T", 0, "float32", [-1], "cpu", False], [b""], "shape"),
    (["T", 0, "float32", [1], "gpu:x", False], [b"\x00" * 4], "device"),
    (["Z", 1], [], "unknown tag"),
    ([], [], "malformed"),
    (["l", {"a": ["Z"]}], [], "unknown tag"),
    (["d", [1]], [], "malformed dict"),
    (["d", [["l"], 1]], [], "unhashable"),
    (["g", "cpu", 0], [b"\x01\x02"], "generator"),
    (["tab", 5], [], "table"),
])
def test_malformed_frames_are_refused(header, buffers, match):
    with pytest.raises(TransportError, match=match):
        loads(_frame(header, buffers))


def test_truncated_and_inconsistent_frames_are_refused():
    frame = encode([torch.ones(3), "x"])
    for cut in (3, transport.PREFIX_SIZE, len(frame) - 1):
        with pytest.raises(TransportError):
            loads(frame[:cut])
    with pytest.raises(TransportError):
        loads(frame + b"x")
    body = bytearray(frame[transport.PREFIX_SIZE:])
    (header_len,) = struct.unpack_from("<I", body, 0)
    struct.pack_into("<Q", body, 4 + header_len + 4, 2**40)  # a buffer longer than the frame
    with pytest.raises(TransportError):
        decode(bytes(body))


def test_deep_nesting_is_refused_both_ways():
    deep: list = []
    for _ in range(transport.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(TransportError, match="nested"):
        encode(deep)
    header = "[" * 100_000 + "]" * 100_000
    body = header.encode()
    raw = struct.pack("<I", len(body)) + body + struct.pack("<I", 0)
    with pytest.raises(TransportError):
        decode(raw)


def test_numbers_too_large_for_the_parser_are_refused():
    body = ("9" * 5000).encode()
    raw = struct.pack("<I", len(body)) + body + struct.pack("<I", 0)
    with pytest.raises(TransportError):
        decode(raw)


def test_cuda_tensors_come_back_on_their_device(device):
    tensor = torch.arange(6.0, device=device).reshape(2, 3)
    out = roundtrip(tensor)
    assert out.device.type == device.type and torch.equal(out.cpu(), tensor.cpu())


def test_a_lone_surrogate_arrives_replaced_so_every_decoded_string_can_be_written():
    value = roundtrip({"message": "broken \ud800 text", "\udcff key": ["\ud83d"]})
    assert value == {"message": "broken ? text", "? key": ["?"]}
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # would raise for a lone surrogate


def test_a_header_that_would_expand_is_refused_before_json_loads():
    with pytest.raises(TransportError, match="parts"):
        roundtrip([0] * (transport.MAX_NODES + 1))
    header = b"[" * (transport.MAX_HEADER + 1)
    body = struct.pack("<I", len(header)) + header + struct.pack("<I", 0)
    with pytest.raises(TransportError, match="header larger"):
        transport.decode(body)
