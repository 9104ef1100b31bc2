"""Hostile and broken submissions of a3, each replacing one part of the solution.

Every case keeps the solution's cell (``{solution}``: helpers of that cell are used
by other parts) and then redefines the part, or adds hostile top-level code.
``lost`` names the parts that must score 0; every other part keeps its points.
``{marker}`` is a file the attack would create in the *grader's* process if the
attack worked there (e.g. by unpickling), ``{notebook_dir}`` the submission's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hostile:
    name: str
    attack: str  # what it tries, in one line
    replace: dict[str, str]
    lost: tuple[str, ...] = ()
    extra_cells: tuple[str, ...] = ()
    expect_in_output: tuple[str, ...] = field(default=())  # in the failed tests' messages
    # Parts that lose only the tests whose names hold one of these words (the rest pass).
    partly: dict[str, tuple[str, ...]] = field(default_factory=dict)
    every_part_lost: bool = False  # guard tampering anywhere costs the whole notebook


# Each fetches the original behind clip_grad_norm_'s guard wrapper through its closure, with a
# prelude that defines AG(name)(obj) by a route past the students' guarded getattr.
_UNWRAP_CLIP = '''
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    wrapper = AG("nn.utils.clip_grad" + "_norm_")(torch)
    raw = AG("__clo" + "sure__")(wrapper)[0].cell_contents  # the original behind the guard
    params = []
    for g in grads:
        p = torch.zeros_like(g, requires_grad=True)
        p.grad = g.clone()
        params.append(p)
    total = raw(params, max_norm, norm_type)
    for g, p in zip(grads, params):
        g.copy_(p.grad)
    return total
'''


def _unwrapping(name: str, attack: str, prelude: str) -> Hostile:
    code = "{solution}\n" + prelude.replace("{", "{{").replace("}", "}}") + _UNWRAP_CLIP
    return Hostile(name, f"{attack}, to unwrap a forbidden function's guard",
                   {"clip_grad_norm": code}, lost=("clip_grad_norm",))


CASES = [
    Hostile("infinite_loop", "a graded function never returns", {"linear_scaling_rule": """
{solution}

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    while True:
        pass
"""}, lost=("linear_scaling_rule",), expect_in_output=("did not finish",)),

    Hostile("sleeps_forever", "a graded function sleeps for days", {"step_lr": """
{solution}
import time

def step_lr(t, base_lr, step_size, gamma=0.1):
    time.sleep(10**6)
"""}, lost=("step_lr",), expect_in_output=("did not finish",)),

    Hostile("memory_hog", "allocates memory until something breaks", {"linear_lr": """
{solution}

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    blocks = []
    while True:
        blocks.append(bytearray(2**26))
"""}, lost=("linear_lr",)),  # MemoryError, or a timeout on a busy machine: 0 either way

    Hostile("huge_tensor", "asks torch for a terabyte", {"multistep_lr": """
{solution}

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    return float(torch.ones(2**38).sum())
"""}, lost=("multistep_lr",)),

    Hostile("fork_bomb", "forks without end", {"multistep_lr": """
{solution}
import os

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    while True:
        os.fork()
"""}, lost=("multistep_lr",)),

    Hostile("thread_bomb", "starts threads without end", {"linear_lr": """
{solution}
import threading
import time

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
"""}, lost=("linear_lr",)),

    Hostile("os_exit", "kills its own process in a call", {"step_lr": """
{solution}
import os

def step_lr(t, base_lr, step_size, gamma=0.1):
    os._exit(0)
"""}, lost=("step_lr",), expect_in_output=("exited with status 0",)),

    Hostile("segfault", "overflows the C stack (a real segmentation fault)", {"linear_lr": """
{solution}
import sys

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    import json
    sys.setrecursionlimit(10**8)
    return json.loads("[" * 10**7)  # the C decoder recurses: the C stack overflows
"""}, lost=("linear_lr",), expect_in_output=("SIGSEGV",)),

    Hostile("sys_exit_in_call", "raises SystemExit from a graded function", {"linear_lr": """
{solution}
import sys

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    sys.exit(0)
"""}, lost=("linear_lr",), expect_in_output=("SystemExit",)),

    Hostile("sys_exit_at_import", "calls sys.exit() before its definitions (which are right)",
            {"multistep_lr": """
import sys
sys.exit("bye")
{solution}
"""}),

    Hostile("os_exit_at_import", "kills the process while its cell loads",
            {"linear_scaling_rule": """
{solution}
import os
os._exit(3)
"""}, lost=("linear_scaling_rule",), expect_in_output=("was dropped",)),

    Hostile("read_secrets", "reads the hidden suite, the solutions and nntrain's source",
            {"linear_lr": """
{solution}

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    import glob
    stolen = []
    for pattern in ("{repo}/autograder/grading/suites/*/*.py", "{repo}/solutions/source/*/*.ipynb",
                    "{repo}/src/nntrain/*.py", "{repo}/autograder/*.py"):
        for path in glob.glob(pattern):
            try:
                stolen.append(open(path).read())
            except OSError:
                pass
    for path in ("{repo}/autograder/grading/suites/a3_optim_schedules/test_schedules.py",
                 "{repo}/solutions/source/a3_optim_schedules/a3_optim_schedules.ipynb"):
        try:
            stolen.append(open(path).read())
        except OSError:
            pass
    raise RuntimeError(f"stole {{len(stolen)}} files")
"""}, lost=("linear_lr",), expect_in_output=("stole 0 files",)),

    Hostile("import_nntrain", "takes the reference implementation from nntrain",
            {"linear_scaling_rule": """
from nntrain.schedules import linear_scaling_rule
"""}, lost=("linear_scaling_rule",), expect_in_output=("nntrain",)),

    Hostile("write_outside", "writes files outside its sandbox (the function is right)",
            {"linear_scaling_rule": """
{solution}
_right = linear_scaling_rule

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    for path in ("{notebook_dir}/pwned", "{repo}/pwned", "/etc/pwned-{tag}", "/var/tmp/pwned-{tag}",
                 "/dev/shm/pwned-{tag}",
                 "{repo}/autograder/grading/suites/a3_optim_schedules/pwned.py"):
        try:
            with open(path, "w") as handle:
                handle.write("pwned")
        except OSError:
            pass
    return _right(base_lr, batch_size, base_batch_size)
"""}),

    Hostile("monkeypatch_torch", "patches torch's comparisons, then returns wrong values",
            {"step_lr": """
{solution}
import math
torch.allclose = lambda *args, **kwargs: True
torch.isclose = lambda *args, **kwargs: torch.tensor(True)
torch.equal = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True
math.isclose = lambda *args, **kwargs: True

def step_lr(t, base_lr, step_size, gamma=0.1):
    return 123.0
"""}, lost=("step_lr",)),

    Hostile("fake_results_json", "writes a results.json with full marks", {"multistep_lr": """
{solution}
import json
_fake = {{"score": 100, "tests": [], "output": "all good"}}
for _path in ("results.json", "/tmp/results.json", "{notebook_dir}/results.json",
              "/autograder/results/results.json", "{repo}/results.json"):
    try:
        with open(_path, "w") as _handle:
            json.dump(_fake, _handle)
    except OSError:
        pass

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    return 0.0
"""}, lost=("multistep_lr",)),

    Hostile("print_fake_results", "prints what looks like a perfect score", {"linear_lr": """
{solution}
import json

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    print(json.dumps({{"score": 100, "tests": []}}))
    print("Score: 100 / 100")
    return -1.0
"""}, lost=("linear_lr",)),

    Hostile("huge_output", "prints 40 MB (the function is right)", {"linear_scaling_rule": """
{solution}
import os
_right = linear_scaling_rule

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    for _ in range(200):
        print("x" * 100_000)
    try:
        os.write(1, b"y" * 20_000_000)
    except OSError:
        pass
    return _right(base_lr, batch_size, base_batch_size)
"""}),

    Hostile("socket", "opens network connections", {"multistep_lr": """
{solution}
import socket

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    connection = socket.create_connection(("1.1.1.1", 80), timeout=1)
    connection.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    return 0.1
"""}, lost=("multistep_lr",)),

    Hostile("pickle_bomb", "returns an object whose unpickling would run code",
            {"linear_scaling_rule": """
{solution}

class _Bomb:
    def __reduce__(self):
        return (open, ("{marker}", "w"))

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    return _Bomb()
"""}, lost=("linear_scaling_rule",)),

    Hostile("tensor_subclass", "returns the right value as a booby-trapped tensor subclass",
            {"step_lr": """
{solution}
_right = step_lr

class _Trap(torch.Tensor):
    def __reduce_ex__(self, protocol):
        return (open, ("{marker}", "w"))

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        try:
            open("{marker}", "w")
        except OSError:
            pass
        return super().__torch_function__(func, types, args, kwargs or {{}})

def step_lr(t, base_lr, step_size, gamma=0.1):
    value = torch.tensor(_right(t, base_lr, step_size, gamma), dtype=torch.float64)
    return value.as_subclass(_Trap)
"""}),

    Hostile("forged_replies", "writes fake protocol frames to every open descriptor",
            {"linear_lr": """
{solution}
import os
import struct

def linear_lr(t, base_lr, total_steps, min_lr=0.0):
    header = b'["d", ["status", "ok"], ["value", 0.5], ["id", 1]]'
    body = struct.pack("<I", len(header)) + header + struct.pack("<I", 0)
    frame = b"NNTG" + struct.pack("<Q", len(body)) + body
    for fd in range(3, 64):
        for data in (frame, b"garbage" * 100):
            try:
                os.write(fd, data)
            except OSError:
                pass
    return 0.5
"""}, lost=("linear_lr",)),

    Hostile("kill_the_grader", "signals its parent and every process it can reach",
            {"step_lr": """
{solution}
import os
import signal

def step_lr(t, base_lr, step_size, gamma=0.1):
    for pid in (os.getppid(), -1, 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return -1.0
"""}, lost=("step_lr",)),

    Hostile("fill_the_disk", "writes a gigabyte to its temporary folder", {"multistep_lr": """
{solution}

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    with open("big.bin", "wb") as handle:
        for _ in range(1024):
            handle.write(b"0" * 2**20)
    return 0.1
"""}, lost=("multistep_lr",)),

    Hostile("deep_return", "returns a value nested 100000 levels deep", {"linear_scaling_rule": """
{solution}

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    value = []
    for _ in range(100_000):
        value = [value]
    return value
"""}, lost=("linear_scaling_rule",)),

    Hostile("guard_evasion", "reaches the forbidden clip_grad_norm_ through a computed name",
            {"clip_grad_norm": """
{solution}

def clip_grad_norm(grads, max_norm, norm_type=2.0):
    name = "clip_grad_" + "norm_"
    return getattr(torch.nn.utils, name)(grads, max_norm, norm_type)
"""}, lost=("clip_grad_norm",), expect_in_output=("torch.nn.utils.clip_grad_norm_",)),
    # ---- issue 14: the forbidden-name rule where the guard can be reached past ----------------
    Hostile("forbidden_routes", "reaches forbidden built-ins through computed names, private "
            "modules, operator namespaces, run-time code and thread trampolines", {
                "adam": """
{solution}
_optim = getattr(torch, "op" + "tim")

def adam(w, dw, state, *args, **kwargs):
    return getattr(_optim, "_functional").adam
""",
                "rmsprop": """
{solution}

def rmsprop(w, dw, state, *args, **kwargs):
    aten = getattr(getattr(torch, "op" + "s"), "aten")
    return aten.mul(w, 1.0), state
""",
                "adagrad": """
_source = "def adagrad(w, dw, state, *args, **kwargs):\\n    return w, state\\n"
(globals()["__buil" + "tins__"]["ex" + "ec"])(_source)
""",
                "clip_grad_norm": """
{solution}

def clip_grad_norm(grads, max_norm, norm_type=2.0):
    pool = __import__("concurrent." + "futures", fromlist=["ThreadPoolExecutor"])
    clip = getattr(torch.nn.utils, "clip_grad_" + "norm_")
    with pool.ThreadPoolExecutor(1) as executor:
        return executor.submit(clip, grads, max_norm, norm_type).result()
""",
                "warmup": """
{solution}
_right = warmup

def warmup(schedule, warmup_steps, *args, **kwargs):
    name = "__wr" + "apped__"
    original = getattr(getattr(torch.nn.utils, "clip_grad_" + "norm_"), name, None)
    return _right(schedule, warmup_steps, *args, **kwargs) if original else None
""",
                "cosine_lr": """
{solution}
_right = cosine_lr

def cosine_lr(t, *args, **kwargs):
    base = getattr(type(torch.zeros(1)), "__m" + "ro__")[1]
    return float(getattr(base, "sig" + "moid")(torch.tensor(0.0))) and _right(t, *args, **kwargs)
""",
            }, lost=("adam", "rmsprop", "adagrad", "clip_grad_norm", "warmup", "cosine_lr")),

    Hostile("switch_the_guard_off", "finds the runtime guard with gc at the top level and "
            "switches it off, then calls the forbidden clip_grad_norm_ by a computed name",
            {"clip_grad_norm": """
{solution}
for _obj in __import__("sys").modules["g" + "c"].get_objects():
    if type(_obj).__name__ == "RuntimeGuard":
        _obj.is_student_frame = lambda frame: False
        _obj.forbidden = ()

def clip_grad_norm(grads, max_norm, norm_type=2.0):
    return getattr(torch.nn.utils, "clip_grad_" + "norm_")(grads, max_norm, norm_type)
"""}, every_part_lost=True, expect_in_output=("sys.modules",)),

    # ---- issue 14: scores that follow behaviour ------------------------------------------------
    Hostile("modify_and_restore", "writes w in place and undoes it before returning (the bits "
            "come back equal)", {"sgd_momentum": """
{solution}
_right = sgd_momentum

def sgd_momentum(w, dw, state, *args, **kwargs):
    with torch.no_grad():
        w.mul_(2.0)
        w.div_(2.0)
    return _right(w, dw, state, *args, **kwargs)
"""}, partly={"sgd_momentum": ("does_not_modify",)}),

    # ---- issue 14: nothing a submission sends can stop or slow another -------------------------
    Hostile("lone_surrogate", "raises and prints messages holding lone surrogates",
            {"step_lr": """
{solution}

def step_lr(t, base_lr, step_size, gamma=0.1):
    print("\\ud800 half a character")
    raise ValueError("broken \\udcff text \\ud83d")
"""}, lost=("step_lr",), expect_in_output=("broken ? text ?",)),

    Hostile("expanding_reply", "returns a value whose JSON header would expand (more nodes "
            "than the decoder accepts)", {"multistep_lr": """
{solution}

def multistep_lr(t, base_lr, milestones, gamma=0.1):
    return [0] * 1_100_000
"""}, lost=("multistep_lr",)),  # refused for its node count (or, on a busy machine, too slow)

    Hostile("forged_call_reply", "answers a call with forged frames whose fields have the wrong "
            "shapes (call information, error fields, forbidden names)", {"linear_scaling_rule": """
{solution}
import json as _json
import os as _os
import struct as _struct

def _frame(value):
    header = _json.dumps(value).encode()
    body = _struct.pack("<I", len(header)) + header + _struct.pack("<I", 0)
    return b"NNTG" + _struct.pack("<Q", len(body)) + body

def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
    for _id in range(1, 400):
        for fake in ({{"status": "ok", "value": 1.0, "args_after": "x", "kwargs_after": [],
                      "written": ["l", 999], "received_after": 5, "id": _id}},
                     {{"status": "error", "type": ["l", 1], "message": {{"k": 1}},
                      "traceback": 5, "id": _id}},
                     {{"status": "forbidden", "name": ["l"], "id": _id}}):
            for _fd in range(3, 16):
                try:
                    _os.write(_fd, _frame(fake))
                except OSError:
                    pass
    return 0.5
"""}, lost=("linear_scaling_rule",)),
    Hostile("nan_values", "returns NaN where a number is expected (comparisons with NaN are "
            "false, so a check written as `error > tol` would pass it)", {"cosine_lr": """
{solution}

def cosine_lr(t, base_lr, total_steps, min_lr=0.0):
    return float("nan")
"""}, lost=("cosine_lr",)),
    _unwrapping("computed_attrgetter",
                "operator.attrgetter fetched by a computed name (C-level access)", """
import operator
AG = getattr(operator, "attr" + "getter")
"""),
    _unwrapping("real_builtins_getattr",
                "the interpreter's own getattr from the builtins module", """
BI = __import__("built" + "ins")
AG = lambda name: (lambda obj: BI.getattr(obj, name))
"""),
    _unwrapping("module_vars_builtins",
                "a module's __builtins__ through vars()", """
G = vars(torch)["__buil" + "tins__"]["getattr"]
AG = lambda name: (lambda obj: G(obj, name))
"""),
    _unwrapping("object_getattribute",
                "object.__getattribute__ fetched by a computed name", """
GA = getattr(object, "__getattri" + "bute__")
AG = lambda name: (lambda obj: GA(obj, name))
"""),
    _unwrapping("unpickled_getattr",
                "an unpickler that looks up builtins.getattr by name", """
import importlib
P = importlib.import_module("pic" + "kle")
G = P.loads(b"cbuiltins\\ngetattr\\n.")
AG = lambda name: (lambda obj: G(obj, name))
"""),
    _unwrapping("formatter_getattr",
                "string.Formatter reading attributes by a chosen name", """
import string
FIELD = string.Formatter().get_field
AG = lambda name: (lambda obj: FIELD("0." + name, [obj], {})[0])
"""),
]
