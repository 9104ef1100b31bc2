"""Forbidden built-ins: the static check of the code and the runtime guard in the child."""

from __future__ import annotations

import pytest
import torch

from autograder.errors import ForbiddenCall, StudentError
from autograder.intake.static_check import static_check
from autograder.sandbox.inside.limits import Limits
from autograder.sandbox.inside.runtime_guard import is_forbidden
from autograder.sandbox.session import Sandbox
from autograder.spec import get_assignment

A1 = get_assignment("a1_activations_init")
A2 = get_assignment("a2_regularization")
A3 = get_assignment("a3_optim_schedules")
IMPORTS = "import math\nimport numpy as np\nimport torch\n"


def flagged(code: str, name: str, imports: str = IMPORTS, assignment=A1) -> str | None:
    """The forbidden name that ``name`` uses (transitively), or None."""
    report = static_check([("imports", imports), ("cell", code)], assignment.forbidden,
                          assignment.forbidden_tensor_methods)
    use = report.first_use(name)
    return use[0].name if use else None


def test_a_dotted_name_forbids_everything_under_it():
    assert is_forbidden("torch.nn.functional.relu", A1.forbidden) == "torch.nn.functional"
    assert is_forbidden("torch.sigmoid", A1.forbidden) == "torch.sigmoid"
    assert is_forbidden("torch.sigmoid_like", A1.forbidden) is None
    assert is_forbidden("torch.nn.Linear", A1.forbidden) is None


@pytest.mark.parametrize("code, expected", [
    ("def f(x):\n    return torch.sigmoid(x)", "torch.sigmoid"),
    ("def f(x):\n    return torch.nn.functional.relu(x)", "torch.nn.functional.relu"),
    ("def f(x):\n    return x.sigmoid()", "Tensor.sigmoid"),
    ("def f(x):\n    return (x * 2).tanh_()", "Tensor.tanh_"),
    ("def f(x):\n    return torch.Tensor.relu(x)", "Tensor.relu"),
    ("def f(x):\n    return getattr(torch, 'tanh')(x)", "torch.tanh"),
    ("def f(x):\n    return getattr(torch.nn, 'functional').gelu(x)", "torch.nn.functional.gelu"),
    ("def f(x):\n    return __import__('torch.nn.functional')", "torch.nn.functional"),
    ("def f(x):\n    import importlib\n    return importlib.import_module('torch.special')",
     "torch.special"),
    ("def f(x):\n    import torch.nn.functional as G\n    return G.elu(x)", "torch.nn.functional"),
    ("def f(x):\n    from torch import relu\n    return relu(x)", "torch.relu"),
    ("def f(x):\n    return torch.nn.SiLU()(x)", "torch.nn.SiLU"),
    ("def f(t):\n    return torch.nn.init.xavier_uniform_(t)", "torch.nn.init.xavier_uniform_"),
    ("def f(x):\n    return torch._C._VariableFunctions.sigmoid(x)",
     "torch._C._VariableFunctions.sigmoid"),
    ("def f(x):\n    import nntrain\n    return nntrain.activations.relu(x)", "nntrain"),
    ("f = torch.relu", "torch.relu"),
    ("f = lambda x: torch.special.expit(x)", "torch.special.expit"),
    ("class f(torch.nn.Module):\n    def forward(self, x):\n        return x.relu()",
     "Tensor.relu"),
    # tools that reach attributes, or the interpreter's own getattr, past the guarded getattr
    ("def f(x):\n    import builtins\n    return builtins.getattr(x, 'exp')()",
     "the module builtins"),
    ("def f(x):\n    from builtins import getattr as g\n    return g(x, 'exp')()",
     "the module builtins"),
    ("def f(x):\n    return __import__('builtins')", "the module builtins"),
    ("def f(x):\n    import operator\n    return operator.attrgetter('exp')(x)()",
     "operator.attrgetter"),
    ("def f(x):\n    from operator import methodcaller\n    return methodcaller('exp')(x)",
     "operator.methodcaller"),
    ("def f(x):\n    return object.__getattribute__(x, 'exp')()", "the attribute __getattribute__"),
    ("def f(x):\n    return torch.__dict__['exp'](x)", "the attribute __dict__"),
    ("def f(x):\n    import pickle\n    return pickle.loads(x)", "pickle"),
    ("def f(x):\n    import operator\n    return operator.add(x, 1)", None),
    ("def f(x):\n    return 1 / (1 + torch.exp(-x))", None),
    ("def f(x):\n    return torch.where(x > 0, x, 0.0) + np.tanh(1.0) + math.tanh(1.0)", None),
    ("def f(x):\n    return torch.erf(x) * torch.clamp(x, min=0)", None),
    ("def f(x):\n    return torch.nn.Linear(2, 2)(x)", None),
])
def test_static_check_resolves_aliases_and_attribute_chains(code, expected):
    assert flagged(code, "f") == expected


@pytest.mark.parametrize("imports, code", [
    ("import torch.nn.functional as F", "def f(x):\n    return F.relu(x)"),
    ("from torch.nn import functional as F", "def f(x):\n    return F.relu(x)"),
    ("from torch import sigmoid as s", "def f(x):\n    return s(x)"),
    ("import torch\nF = torch.nn.functional", "def f(x):\n    return F.relu(x)"),
    ("import torch.special", "def f(x):\n    return torch.special.expit(x)"),
])
def test_aliases_from_the_imports_cell_are_followed(imports, code):
    assert flagged(code, "f", imports=imports) is not None


def test_a_forbidden_use_costs_only_the_names_that_reach_it():
    code = ("def _helper(x):\n    return torch.sigmoid(x)\n\n"
            "def gelu(x):\n    return x * _helper(1.702 * x)\n\n"
            "def relu(x):\n    return x.clamp(min=0)\n")
    report = static_check([("imports", IMPORTS), ("gelu", code)], A1.forbidden,
                          A1.forbidden_tensor_methods)
    finding, via = report.first_use("gelu")
    assert finding.name == "torch.sigmoid" and via == ["_helper"]
    assert report.first_use("relu") is None
    assert any("`gelu` uses the forbidden `torch.sigmoid`" in line and "_helper" in line
               for line in report.summary(["gelu", "relu"]))


def test_the_submissions_own_definition_replaces_an_import_of_the_same_name():
    report = static_check([("imports", "import torch\nfrom torch import sigmoid"),
                           ("sigmoid", "def sigmoid(x):\n    return 1 / (1 + torch.exp(-x))"),
                           ("gelu", "def gelu(x):\n    return x * sigmoid(1.702 * x)")],
                          A1.forbidden, A1.forbidden_tensor_methods)
    assert report.first_use("sigmoid") is None and report.first_use("gelu") is None


def test_a_name_bound_to_a_forbidden_object_by_import_is_flagged():
    report = static_check([("imports", "from torch import tanh")], A1.forbidden)
    assert report.first_use("tanh")[0].name == "torch.tanh"


def test_unparsable_cells_are_left_to_the_child():
    report = static_check([("cell", "def f(:\n")], A1.forbidden)
    assert report.first_use("f") is None


# ---------------------------------------------------------------------------- runtime guard
RUNTIME = '''
def dynamic(x):
    return getattr(torch, "sig" + "moid")(x)

def functional(x):
    return F.relu(x)

def method(x):
    return x.tanh()

def module(x):
    return torch.nn.Sigmoid()(x)

def subclass(x):
    class Mine(torch.nn.ReLU):
        pass
    return Mine()(x)

def late_import(x):
    import torch.nn.functional as G
    return G.relu(x)

def import_module(x):
    import importlib
    return importlib.import_module("torch.special").expit(x)

def swallowed(x):
    try:
        return torch.sigmoid(x)
    except Exception:
        return 1 / (1 + torch.exp(-x))

def mapped(x):
    return list(map(torch.relu, [x]))[0]

def library(x):
    layer = torch.nn.Linear(3, 2)
    return layer(x).shape

def allowed(x):
    return torch.erf(x) + x.clamp(min=0) + torch.exp(-x)
'''


@pytest.fixture(scope="module")
def a1_box():
    box = Sandbox([("imports", "import torch\nimport torch.nn.functional as F"),
                   ("code", RUNTIME)], forbidden=A1.forbidden,
                  tensor_methods=A1.forbidden_tensor_methods, limits=Limits(call_timeout=10))
    box.start()
    yield box
    box.close()


@pytest.mark.parametrize("function, name", [
    ("dynamic", "torch.sigmoid"),
    ("functional", "torch.nn.functional.relu"),
    ("method", "Tensor.tanh"),
    ("module", "torch.nn.Sigmoid"),
    ("subclass", "torch.nn.ReLU"),
    ("late_import", "torch.nn.functional"),
    ("import_module", "torch.special"),
    ("swallowed", "torch.sigmoid"),
    ("mapped", "torch.relu"),
])
def test_the_runtime_guard_refuses_forbidden_calls_from_student_code(a1_box, function, name):
    with pytest.raises(ForbiddenCall) as caught:
        a1_box.call(function, (torch.randn(3),))
    assert caught.value.name == name
    assert f"`{function}` calls `{name}`" in str(caught.value)


def test_library_code_may_still_use_forbidden_functions_internally(a1_box):
    assert a1_box.call("library", (torch.randn(4, 3),)).value == torch.Size([4, 2])
    x = torch.randn(5)
    expected = torch.erf(x) + x.clamp(min=0) + torch.exp(-x)
    assert torch.allclose(a1_box.call("allowed", (x,)).value, expected)


@pytest.mark.parametrize("assignment, code, name", [
    (A2, "def f(x):\n    return torch.nn.Dropout(0.5)(x)", "torch.nn.Dropout"),
    (A2, "def f(x):\n    return torch.dropout(x, 0.5, True)", "torch.dropout"),
    (A2, "def f(x):\n    return torch.nn.CrossEntropyLoss()(x, x.argmax(-1))",
     "torch.nn.CrossEntropyLoss"),
    (A3, "def f(x):\n    return torch.optim.SGD([x], lr=0.1)", "torch.optim.SGD"),
    (A3, "def f(x):\n    return torch.nn.utils.clip_grad_norm_([x], 1.0)",
     "torch.nn.utils.clip_grad_norm_"),
])
def test_each_assignment_guards_its_own_built_ins(assignment, code, name):
    box = Sandbox([("imports", "import torch"), ("f", code)], forbidden=assignment.forbidden,
                  tensor_methods=assignment.forbidden_tensor_methods,
                  limits=Limits(call_timeout=10))
    try:
        box.start()
        with pytest.raises(ForbiddenCall) as caught:
            box.call("f", (torch.randn(2, 3, requires_grad=True),))
        assert caught.value.name == name
    finally:
        box.close()


def test_imports_of_forbidden_modules_in_an_answer_cell_are_recorded():
    box = Sandbox([("imports", "import torch"),
                   ("relu", "import torch.nn.functional as F\ndef relu(x):\n    return x")],
                  forbidden=A1.forbidden, limits=Limits(call_timeout=10))
    try:
        box.start()
        assert box.cell_results["relu"].forbidden == ["torch.nn.functional"]
        assert box.call("relu", (1,)).value == 1  # the definition after it still loaded
    finally:
        box.close()


# Routes to a forbidden function's implementation that neither the static check nor the public
# wrappers see: the implementation guard (a torch function mode) refuses them at dispatch.
LAUNDERED = '''
import functools
import operator

NAME = "sig" + "moid"

def c_function(x):  # the C function under torch._C, reached without getattr
    return operator.attrgetter("_C._VariableFunctions." + NAME)(torch)(x)

def operator_packet(x):
    return operator.attrgetter("ops.aten." + NAME)(torch)(x)

def base_class_method(x):
    return operator.attrgetter("_C.TensorBase." + NAME)(torch)(x)

def through_vmap(x):  # library code calls what the student hands it
    return torch.vmap(operator.attrgetter(NAME)(torch))(x)

def through_func_vmap_of_a_partial(x):
    return torch.func.vmap(functools.partial(object.__getattribute__(torch, NAME)))(x)

def through_a_module_dict(x):
    return torch.vmap(torch.__dict__[NAME])(x)

def own_function_in_vmap(x):  # allowed: the student's own formula, vectorised by torch
    return torch.vmap(lambda v: 1 / (1 + torch.exp(-v)))(x)
'''


@pytest.fixture(scope="module")
def laundering_box():
    box = Sandbox([("imports", "import torch"), ("code", LAUNDERED)], forbidden=A1.forbidden,
                  tensor_methods=A1.forbidden_tensor_methods, limits=Limits(call_timeout=10))
    box.start()
    yield box
    box.close()


@pytest.mark.parametrize("function, name", [
    ("c_function", "torch.sigmoid"),
    ("operator_packet", "torch.ops.aten.sigmoid"),
    ("base_class_method", "Tensor.sigmoid"),
    ("through_vmap", "torch.sigmoid"),
    ("through_func_vmap_of_a_partial", "torch.sigmoid"),
    ("through_a_module_dict", "torch.sigmoid"),
])
def test_a_forbidden_function_reached_by_any_route_is_refused(laundering_box, function, name):
    with pytest.raises(ForbiddenCall) as caught:
        laundering_box.call(function, (torch.randn(3),))
    assert caught.value.name == name


def test_library_code_may_call_the_students_own_functions(laundering_box):
    x = torch.randn(6, dtype=torch.float64)
    value = laundering_box.call("own_function_in_vmap", (x,)).value
    assert torch.allclose(value, 1 / (1 + torch.exp(-x)))


# Library code that reads an attribute by a name the student chooses (string.Formatter) hands
# over the original behind a guard wrapper; torch work done inside it is still refused.
UNWRAPPED = '''
import string

FIELD = string.Formatter().get_field

def fetch(obj, path):
    return FIELD("0." + path, [obj], {})[0]

def formatter_unwrapped_clip(grad):
    wrapper = fetch(torch, "nn.utils.clip_grad" + "_norm_")
    raw = fetch(wrapper, "__clo" + "sure__")[0].cell_contents
    p = torch.zeros_like(grad, requires_grad=True)
    p.grad = grad.clone()
    return raw([p], 1.0)

def raw_functional_sgd(grad):
    wrapper = fetch(torch, "optim._functional.s" + "gd")
    raw = [c.cell_contents for c in fetch(wrapper, "__clo" + "sure__")
           if callable(c.cell_contents)][0]
    p = torch.zeros_like(grad)
    raw([p], [grad.clone()], [None], weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0,
        nesterov=False, maximize=False)
    return p
'''


@pytest.mark.parametrize("function, name", [
    ("formatter_unwrapped_clip", "torch.nn.utils.clip_grad_norm_"),
    ("raw_functional_sgd", "torch.optim._functional.sgd"),
])
def test_torch_work_inside_an_unwrapped_forbidden_function_is_refused(function, name):
    box = Sandbox([("imports", "import torch"), ("code", UNWRAPPED)], forbidden=A3.forbidden,
                  tensor_methods=A3.forbidden_tensor_methods, limits=Limits(call_timeout=10))
    try:
        box.start()
        with pytest.raises(ForbiddenCall) as caught:
            box.call(function, (torch.randn(5),))
        assert caught.value.name == name
    finally:
        box.close()


def test_student_errors_are_not_mistaken_for_forbidden_calls(a1_box):
    with pytest.raises(StudentError, match="TypeError"):
        a1_box.call("allowed", ("not a tensor",))
