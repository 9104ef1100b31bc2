"""What each assignment grades: its parts, their points and its forbidden built-ins.

This is the single source of truth shared by the notebooks' generator and
checks (the points of each visible-test cell), the hidden suites (the points of
their tests add up per part), the static and runtime guards (the forbidden
names) and the gradebook export.  The names and conventions are fixed by
COURSE.md's "Graded API".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The grade_id of the locked cell that holds the imports a student may use.
IMPORTS_CELL_ID = "imports"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Part:
    """One graded function (or class) of an assignment.

    ``name`` is the function's name; :attr:`answer_cell_id` and :attr:`test_cell_id`
    are the ``grade_id`` of its answer cell and of the visible-test cell that follows
    it (the only place these ids are built).  ``points`` is what the hidden suite
    awards for it.
    """

    name: str
    points: int
    chapter: str  # the book chapter (file stem under book/) that teaches it

    @property
    def answer_cell_id(self) -> str:
        return self.name

    @property
    def test_cell_id(self) -> str:
        return f"test_{self.name}"


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    parts: tuple[Part, ...]
    # Dotted names a submission may not use.  A name forbids itself and
    # everything under it ("torch.nn.functional" forbids "torch.nn.functional.relu").
    forbidden: tuple[str, ...]
    # Tensor methods that do the same job as a forbidden function (x.sigmoid()).
    forbidden_tensor_methods: tuple[str, ...] = ()

    @property
    def total_points(self) -> int:
        return sum(part.points for part in self.parts)

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"{self.name} has no graded part named {name!r}")


# Reaching torch's compiled internals would bypass every other rule.
# Forbidden in every assignment: the reference package; torch's private and operator-level
# namespaces (each reaches the built-ins by another name: torch._C.TensorBase.sigmoid,
# torch._VF, torch.ops.aten.sigmoid); code built at run time (it hides what it calls from the
# static check); and the tools that tamper with the guard or call through a trampoline
# (frames, closures and unwrapping, threads and pools, the garbage collector, ctypes).
# A use of one of TAMPERING_NAMES anywhere in the notebook, even outside every function,
# costs every part: it can switch the runtime guard off for the whole submission.
TAMPERING_NAMES = (
    "builtins.compile", "builtins.exec", "builtins.eval", "builtins.breakpoint",
    "types.CodeType", "types.FunctionType", "types.LambdaType", "marshal",
    "threading", "_thread", "concurrent", "multiprocessing", "asyncio", "gc", "inspect",
    "ctypes", "sys.settrace", "sys.setprofile", "sys.monitoring", "sys._getframe",
    "sys.modules",
    # attribute access by a computed name at C level, past the students' guarded getattr
    "operator.attrgetter", "operator.methodcaller",
    # unpicklers look up and call any global by name
    "pickle", "_pickle", "copyreg", "shelve",
)
# Modules student code may not import at all: the real builtins module's getattr is not the
# students' guarded one (their namespace has its own copy of the built-ins).
REFUSED_MODULES = ("builtins",)
_ALWAYS_FORBIDDEN = (
    "nntrain", "torch._C", "torch._refs", "torch._decomp", "torch._prims", "torch._VF",
    "torch.ops", "torch._ops", "torch.library", "torch.overrides", "torch.utils._python_dispatch",
    *TAMPERING_NAMES,
)
# Attributes that reach a guarded callable's original, another frame or another namespace.
TAMPERING_ATTRIBUTES = ("__wrapped__", "__closure__", "__code__", "__globals__",
                        "__builtins__", "__self__", "__func__", "__mro__", "__bases__",
                        "__base__", "__subclasses__", "mro", "f_back", "f_globals", "f_locals",
                        "f_builtins", "gi_frame", "cr_frame", "ag_frame", "tb_frame",
                        "tb_next", "__getattribute__", "__dict__")

A1 = Assignment(
    name="a1_activations_init",
    title="Activation functions and weight initialisation",
    parts=(
        Part("sigmoid", 4, "01_activations"),
        Part("tanh", 4, "01_activations"),
        Part("relu", 3, "01_activations"),
        Part("leaky_relu", 4, "01_activations"),
        Part("elu", 5, "01_activations"),
        Part("selu", 5, "01_activations"),
        Part("gelu", 8, "01_activations"),
        Part("silu", 4, "01_activations"),
        Part("sigmoid_backward", 5, "01_activations"),
        Part("tanh_backward", 5, "01_activations"),
        Part("relu_backward", 5, "01_activations"),
        Part("leaky_relu_backward", 5, "01_activations"),
        Part("elu_backward", 5, "01_activations"),
        Part("gelu_backward", 6, "01_activations"),
        Part("calculate_fan_in_and_fan_out", 5, "03_init"),
        Part("calculate_gain", 5, "03_init"),
        Part("xavier_uniform_", 5, "03_init"),
        Part("xavier_normal_", 5, "03_init"),
        Part("kaiming_uniform_", 6, "03_init"),
        Part("kaiming_normal_", 6, "03_init"),
    ),
    forbidden=_ALWAYS_FORBIDDEN + (
        "torch.nn.functional",
        "torch.nn.init",
        "torch.special",
        "torch.nn.modules.activation",
        "torch.sigmoid", "torch.sigmoid_",
        "torch.tanh", "torch.tanh_",
        "torch.relu", "torch.relu_",
        "torch.selu", "torch.selu_",
        "torch.celu", "torch.celu_",
        "torch.rrelu", "torch.rrelu_",
        "torch.prelu",
        "torch.threshold", "torch.threshold_",
        "torch.hardshrink",
        "torch.nn.Sigmoid", "torch.nn.Tanh", "torch.nn.ReLU", "torch.nn.ReLU6",
        "torch.nn.LeakyReLU", "torch.nn.ELU", "torch.nn.SELU", "torch.nn.CELU",
        "torch.nn.GELU", "torch.nn.SiLU", "torch.nn.Mish", "torch.nn.Softplus",
        "torch.nn.Hardtanh", "torch.nn.Hardsigmoid", "torch.nn.Hardswish",
        "torch.nn.PReLU", "torch.nn.RReLU", "torch.nn.LogSigmoid",
    ),
    forbidden_tensor_methods=(
        "sigmoid", "sigmoid_", "tanh", "tanh_", "relu", "relu_", "prelu",
    ),
)

A2 = Assignment(
    name="a2_regularization",
    title="Regularisation and data augmentation",
    parts=(
        Part("dropout", 16, "04_regularization"),
        Part("Dropout", 6, "04_regularization"),
        Part("mixup", 18, "05_augment"),
        Part("cutmix", 20, "05_augment"),
        Part("cutout", 12, "05_augment"),
        Part("label_smoothing", 10, "05_augment"),
        Part("smoothed_cross_entropy", 18, "05_augment"),
    ),
    forbidden=_ALWAYS_FORBIDDEN + (
        "torch.nn.functional",
        "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d",
        "torch.nn.AlphaDropout", "torch.nn.FeatureAlphaDropout",
        "torch.nn.modules.dropout",
        "torch.dropout", "torch.dropout_",
        "torch.alpha_dropout", "torch.alpha_dropout_",
        "torch.feature_dropout", "torch.feature_dropout_",
        "torch.feature_alpha_dropout", "torch.feature_alpha_dropout_",
        "torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nn.modules.loss",
        "torchvision",
        "timm",
    ),
)

A3 = Assignment(
    name="a3_optim_schedules",
    title="Optimisers, learning-rate schedules and gradient clipping",
    parts=(
        Part("step_lr", 4, "07_schedules"),
        Part("multistep_lr", 4, "07_schedules"),
        Part("cosine_lr", 5, "07_schedules"),
        Part("linear_lr", 4, "07_schedules"),
        Part("inverse_sqrt_lr", 5, "07_schedules"),
        Part("cosine_restarts_lr", 7, "07_schedules"),
        Part("warmup", 7, "07_schedules"),
        Part("linear_scaling_rule", 2, "08_large_batch"),
        Part("sgd_momentum", 14, "06_optim"),
        Part("adagrad", 9, "06_optim"),
        Part("rmsprop", 10, "06_optim"),
        Part("adam", 18, "06_optim"),
        Part("clip_grad_norm", 11, "09_clipping"),
    ),
    forbidden=_ALWAYS_FORBIDDEN + (
        "torch.optim",
        "torch.nn.utils.clip_grad_norm_",
        "torch.nn.utils.clip_grad_norm",
        "torch.nn.utils.clip_grad_value_",
        "torch.nn.utils.clip_grad",
        "torch.nn.utils.get_total_norm",
        "torch.nn.utils.clip_grads_with_norm_",
    ),
)

ASSIGNMENTS: dict[str, Assignment] = {a.name: a for a in (A1, A2, A3)}


def get_assignment(name: str) -> Assignment:
    """Look an assignment up by name, with a message that lists the valid names."""
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        valid = ", ".join(ASSIGNMENTS)
        raise KeyError(f"unknown assignment {name!r}; expected one of: {valid}") from None


def solution_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """The nbgrader source notebook (with solutions) of ``assignment``."""
    return root / "solutions" / "source" / assignment / f"{assignment}.ipynb"


def release_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """The released student notebook of ``assignment``."""
    return root / "assignments" / assignment / f"{assignment}.ipynb"
