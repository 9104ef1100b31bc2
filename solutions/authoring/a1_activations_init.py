# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] role="intro"
# # Assignment 1 — Activation functions and weight initialisation
#
# This assignment goes with two chapters of the course book:
#
# - **Chapter 1, Activation functions** (`book/01_activations.md`): sigmoid, tanh, ReLU and its
#   relatives, their derivatives, saturation and dead units.
# - **Chapter 3, Weight initialisation** (`book/03_init.md`): why `0.01 * randn` makes a deep tanh
#   network's activations collapse, and how Xavier and Kaiming initialisation keep their variance
#   constant from layer to layer.
#
# You will write the forward pass and the derivative of eight activation functions, then the
# functions of `torch.nn.init` that compute fans and gains and initialise a weight tensor.  At the
# end you use your own code to reproduce the lectures' experiment on activation statistics.
#
# ## Conventions (the hidden tests check every one of them)
#
# - Every function takes and returns `torch.Tensor`s of any shape, works on CPU and CUDA, and
#   returns a tensor of the **same dtype and device** as its input.
# - **Never modify an input in place.**  The initialisers `xavier_uniform_`, `xavier_normal_`,
#   `kaiming_uniform_` and `kaiming_normal_` are the exception: like `torch.nn.init`, they fill
#   `tensor` in place, without recording autograd history, and return that same tensor.
# - The activations must stay **finite for inputs as large as |x| = 1e4** in float32 and float64:
#   write them so that `exp` never sees a large positive argument.
# - They must also be **accurate near 0**: for tiny inputs (|x| around 1e-10) the relative error
#   must stay below 1e-9 in float64 (1e-5 in float32).  There tanh(x) ≈ x and elu(x) ≈ x, so a
#   formula that subtracts two numbers close to 1 (`exp(x) - 1`, `2 * sigmoid(2 * x) - 1`) loses
#   every digit: use `torch.expm1`.
# - Half precision counts too: a `float16` or `bfloat16` input gives a result of the same dtype
#   (beware of masks made with `.float()` and of float32 scalar tensors, which promote), close to
#   PyTorch's within half precision.  Tensors of any rank (0-d included) and with a zero-size
#   dimension are fine: a tensor of shape `(0,)` or `(3, 0, 2)` comes back with its shape.
# - Each `<name>_backward(grad_out, x)` returns the gradient of the loss with respect to `x`,
#   that is `grad_out * f'(x)`.  At the kinks (`x == 0`) return **what PyTorch's autograd
#   returns**: 0 for ReLU, `negative_slope` for Leaky ReLU, `alpha` for ELU.
# - `gelu(x, approximate)` follows PyTorch: `"none"` is the exact form with the error function,
#   `"tanh"` the tanh approximation; we add `"sigmoid"`, the approximation x·σ(1.702x).  Any other
#   value raises `ValueError`.
# - The initialisers follow `torch.nn.init` (same arguments, same formulas, same `ValueError`s for a
#   tensor with fewer than 2 dimensions, an unknown `mode` or an unsupported nonlinearity); the
#   optional `generator` is passed to the random fill, as in PyTorch.
#
# You may call the functions you wrote earlier in the notebook (`sigmoid` inside `silu`, say).
#
# ## How to check your work
#
# Run the test cell under each function: it gives quick feedback (shapes, a few values, comparisons
# with PyTorch).  Then check the whole notebook with `python -m autograder validate <this notebook>`
# or the **Validate** button of JupyterLab's nbgrader toolbar.  The visible tests are not the
# grade: the hidden suite tests each function much more thoroughly.

# %% [markdown] role="grading"
# The table of points and the list of forbidden names are generated from autograder/spec.py.

# %% role="imports"
import math

import torch

# The self-normalising constants of SELU (Klambauer et al., 2017), for your `selu`.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

# For the visible tests only (the grader applies the same rule): the built-ins this assignment
# forbids, checked on the source of your functions and of the notebook functions they call.
_FORBIDDEN = (
    'nntrain', 'torch.nn.functional', 'torch.nn.init', 'torch.special',
    'torch.nn.modules.activation', 'torch.sigmoid', 'torch.sigmoid_', 'torch.tanh',
    'torch.tanh_', 'torch.relu', 'torch.relu_', 'torch.selu', 'torch.selu_', 'torch.celu',
    'torch.celu_', 'torch.rrelu', 'torch.rrelu_', 'torch.prelu', 'torch.threshold',
    'torch.threshold_', 'torch.hardshrink', 'torch.nn.Sigmoid', 'torch.nn.Tanh',
    'torch.nn.ReLU', 'torch.nn.ReLU6', 'torch.nn.LeakyReLU', 'torch.nn.ELU', 'torch.nn.SELU',
    'torch.nn.CELU', 'torch.nn.GELU', 'torch.nn.SiLU', 'torch.nn.Mish', 'torch.nn.Softplus',
    'torch.nn.Hardtanh', 'torch.nn.Hardsigmoid', 'torch.nn.Hardswish', 'torch.nn.PReLU',
    'torch.nn.RReLU', 'torch.nn.LogSigmoid',
)

_FORBIDDEN_METHODS = ('sigmoid', 'sigmoid_', 'tanh', 'tanh_', 'relu', 'relu_', 'prelu')


def _forbidden_use(name):
    """The first forbidden name that `name` (or a notebook function it calls) uses, or None.

    Reads the cells this kernel has run (IPython's `In`), resolves their imports and follows
    the notebook's own functions, like the grader's check of the submitted notebook.
    """
    import ast

    try:
        sources = get_ipython().user_ns.get("In", [])  # noqa: F821 (IPython's own name)
    except NameError:  # not in a notebook kernel: nothing to check
        return None
    aliases, functions = {}, {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[alias.asname or alias.name.split(".")[0]] = \
                        alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef):
                functions[node.name] = node
                aliases.pop(node.name, None)
    todo, seen = [name], set()
    while todo:
        current = todo.pop(0)
        if current in seen or current not in functions:
            continue
        seen.add(current)
        for node in ast.walk(functions[current]):
            chain, root = [], node
            while isinstance(root, ast.Attribute):
                chain.insert(0, root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in aliases:
                full = ".".join([aliases[root.id], *chain])
                if any(full == f or full.startswith(f + ".") for f in _FORBIDDEN):
                    return f"`{full}`" + (f" (through `{current}`)" if current != name else "")
            elif isinstance(node, ast.Attribute) and node.attr in _FORBIDDEN_METHODS:
                return f"the tensor method `.{node.attr}()`" + (
                    f" (through `{current}`)" if current != name else "")
            elif isinstance(node, ast.Name) and node.id in functions:
                todo.append(node.id)
    return None


def _check_allowed(name):
    """Fail with a sentence, as the grader would, if `name` uses a forbidden built-in."""
    found = _forbidden_use(name)
    assert found is None, (f"{name} uses {found}, which this assignment forbids: the grader "
                           "scores its tests 0; implement it with elementary tensor operations")


def _check_returns(name, *args):
    """Fail with a sentence if `name(*args)` returns None (a body that does nothing yet)."""
    assert globals()[name](*args) is not None, (
        f"{name} returned None: it should return its result (is its body still empty?)")


# %% [markdown]
# ## Part 1 — Activation functions (Chapter 1)
#
# ### Sigmoid
#
# $\sigma(x) = 1 / (1 + e^{-x})$.  Computed literally, `exp(-x)` overflows to `inf` for
# $x \ll 0$ (harmless here, but the mirrored form $e^x / (1 + e^x)$ gives `inf / inf = nan` for
# $x \gg 0$).  A stable version only ever exponentiates $-|x|$: with $z = e^{-|x|}$,
# $\sigma(x) = 1/(1+z)$ for $x \ge 0$ and $z/(1+z)$ for $x < 0$.  Use `torch.where`.

# %% role="answer"
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)), elementwise."""
    ### BEGIN SOLUTION
    z = torch.exp(-x.abs())  # in (0, 1]: never overflows
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("sigmoid")
    _check_returns("sigmoid", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    x_before = x.clone()
    assert_close(sigmoid(x), torch.sigmoid(x), rtol=1e-12, atol=1e-15)
    assert torch.equal(x, x_before), "sigmoid must not modify its input"
    big = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4])
    out = sigmoid(big)
    assert out.dtype == torch.float32 and out.shape == big.shape, \
        f"sigmoid of a float32 tensor of shape (5,) returned {out.dtype}, shape {tuple(out.shape)}"
    assert torch.isfinite(out).all(), f"sigmoid is not finite for large |x|: {out}"
    assert_close(out, torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]))
    print("sigmoid: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### Tanh
#
# $\tanh(x) = (e^{x} - e^{-x}) / (e^{x} + e^{-x}) = 2\sigma(2x) - 1$.  `torch.tanh` is not
# allowed.  A stable and accurate form: $\tanh(x) = \operatorname{sign}(x)\,(1 - e^{-2|x|}) /
# (1 + e^{-2|x|})$; `torch.expm1(y)` computes $e^y - 1$ without losing digits when $y$ is small.

# %% role="answer"
def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent, tanh(x) = (e^x - e^-x) / (e^x + e^-x), elementwise."""
    ### BEGIN SOLUTION
    minus_two_abs = -2 * x.abs()  # the exponent is never positive: nothing overflows
    magnitude = -torch.expm1(minus_two_abs) / (1 + torch.exp(minus_two_abs))
    return torch.copysign(magnitude, x)  # odd function; keeps the sign of -0.0 too
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("tanh")
    _check_returns("tanh", torch.zeros(3))
    from torch.testing import assert_close

    x = torch.linspace(-20, 20, 401, dtype=torch.float64)
    assert_close(tanh(x), torch.tanh(x), rtol=1e-12, atol=1e-15)
    small = torch.tensor([1e-8, -1e-8], dtype=torch.float64)
    assert_close(tanh(small), small, rtol=1e-12, atol=0.0)  # tanh(x) ~ x near 0
    out = tanh(torch.tensor([-1e4, 0.0, 1e4]))
    assert out.dtype == torch.float32 and torch.isfinite(out).all(), f"tanh(±1e4) = {out}"
    assert_close(out, torch.tensor([-1.0, 0.0, 1.0]))
    print("tanh: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### ReLU and Leaky ReLU
#
# `relu(x)` $= \max(0, x)$, and `leaky_relu(x)` $= x$ for $x > 0$, `negative_slope` $\cdot\, x$
# otherwise.

# %% role="answer"
def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit, relu(x) = max(0, x), elementwise (Nair & Hinton, 2010)."""
    ### BEGIN SOLUTION
    return torch.clamp(x, min=0)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("relu")
    _check_returns("relu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.randn(4, 5, 6, dtype=torch.float64)
    assert_close(relu(x), F.relu(x), rtol=0, atol=0)
    assert relu(x.float()).dtype == torch.float32, "relu of a float32 tensor should return float32"
    assert_close(relu(torch.tensor([-2.0, 0.0, 3.0])), torch.tensor([0.0, 0.0, 3.0]))
    print("relu: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU: x for x > 0, negative_slope * x otherwise (Maas et al., 2013)."""
    ### BEGIN SOLUTION
    return torch.where(x > 0, x, negative_slope * x)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("leaky_relu")
    _check_returns("leaky_relu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.randn(100, dtype=torch.float64)
    assert_close(leaky_relu(x), F.leaky_relu(x), rtol=0, atol=0)
    assert_close(leaky_relu(x, 0.2), F.leaky_relu(x, 0.2), rtol=1e-15, atol=0)
    assert_close(leaky_relu(torch.tensor([-1e4, 1e4]), 0.1), torch.tensor([-1e3, 1e4]))
    print("leaky_relu: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### ELU and SELU
#
# $\operatorname{elu}(x) = x$ for $x > 0$ and $\alpha\,(e^x - 1)$ otherwise (Clevert et al.,
# 2016).  `torch.expm1` is accurate near 0; do not let it see large positive $x$ (the branch that
# `torch.where` discards is still computed, and `inf` there is a trap for the derivative).
#
# SELU (Klambauer et al., 2017, *Self-Normalizing Neural Networks*) is a scaled ELU,
# $\operatorname{selu}(x) = \lambda\,\operatorname{elu}(x, \alpha)$ with the constants
# $\alpha \approx 1.6732632423543772$ and $\lambda \approx 1.0507009873554805$ that make zero mean
# and unit variance a fixed point of a layer.  The imports cell defines them for you as
# `_SELU_ALPHA` and `_SELU_SCALE`.

# %% role="answer"
def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    ### BEGIN SOLUTION
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("elu")
    _check_returns("elu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    assert_close(elu(x), F.elu(x), rtol=1e-12, atol=1e-15)
    assert_close(elu(x, alpha=0.5), F.elu(x, alpha=0.5), rtol=1e-12, atol=1e-15)
    out = elu(torch.tensor([-1e4, 1e4]))
    assert torch.isfinite(out).all(), f"elu(±1e4) = {out}"
    print("elu: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU, scale * elu(x, alpha), with Klambauer et al.'s (2017) alpha and scale."""
    ### BEGIN SOLUTION
    return _SELU_SCALE * elu(x, _SELU_ALPHA)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("selu")
    _check_returns("selu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    assert_close(selu(x), F.selu(x), rtol=1e-12, atol=1e-15)
    assert selu(x.float()).dtype == torch.float32, "selu of a float32 tensor should return float32"
    print("selu: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### GELU
#
# The Gaussian error linear unit (Hendrycks & Gimpel, 2016) weights its input by the probability
# that a standard normal variable is below it: $\operatorname{gelu}(x) = x\,\Phi(x) =
# \tfrac{x}{2}\,(1 + \operatorname{erf}(x/\sqrt2))$.  `torch.erf` is allowed (`torch.special` is
# not).  Two cheaper approximations are common:
#
# - `approximate="tanh"`: $\tfrac{x}{2}\,\bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,(x + 0.044715\,x^3)
#   \bigr)\bigr)$;
# - `approximate="sigmoid"`: $x\,\sigma(1.702\,x)$.
#
# Any other value of `approximate` raises `ValueError`.  Hint: $\tfrac12(1 + \tanh u) = \sigma(2u)$.

# %% role="answer"
def gelu(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """Gaussian error linear unit x * Phi(x), exact or approximated ("tanh", "sigmoid")."""
    ### BEGIN SOLUTION
    if approximate == "none":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return x * sigmoid(2 * inner)  # (1 + tanh(u)) / 2 == sigmoid(2u), without cancellation
    if approximate == "sigmoid":
        return x * sigmoid(1.702 * x)
    raise ValueError(f"approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("gelu")
    _check_returns("gelu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-10, 10, 401, dtype=torch.float64)
    assert_close(gelu(x), F.gelu(x), rtol=1e-12, atol=1e-15)
    assert_close(gelu(x, approximate="tanh"), F.gelu(x, approximate="tanh"), rtol=1e-10, atol=1e-14)
    assert_close(gelu(x, approximate="sigmoid"), x * torch.sigmoid(1.702 * x), rtol=1e-12,
                 atol=1e-15)
    for mode in ("none", "tanh", "sigmoid"):
        out = gelu(torch.tensor([-1e4, 1e4]), approximate=mode)
        assert torch.isfinite(out).all(), f"gelu(±1e4, approximate={mode!r}) = {out}"
    try:
        gelu(x, approximate="erf")
    except ValueError:
        pass
    else:
        raise AssertionError("gelu should raise ValueError for approximate='erf'")
    print("gelu: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### SiLU (Swish)
#
# $\operatorname{silu}(x) = x\,\sigma(x)$ (Elfwing et al., 2018; Ramachandran et al., 2017).

# %% role="answer"
def silu(x: torch.Tensor) -> torch.Tensor:
    """Sigmoid-weighted linear unit (Swish with beta = 1), x * sigmoid(x)."""
    ### BEGIN SOLUTION
    return x * sigmoid(x)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("silu")
    _check_returns("silu", torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    assert_close(silu(x), F.silu(x), rtol=1e-12, atol=1e-15)
    assert torch.isfinite(silu(torch.tensor([-1e4, 1e4]))).all(), "silu(±1e4) should be finite"
    print("silu: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ## Part 2 — Derivatives (Chapter 1)
#
# Each `<name>_backward(grad_out, x)` is the chain rule for one elementwise function: it returns
# `grad_out * f'(x)`.  The visible tests compare with `torch.autograd`; at `x == 0` autograd takes
# a definite value even where $f$ has a kink, and you must return the same.
#
# | function | derivative |
# | --- | --- |
# | sigmoid | $\sigma(x)\,(1-\sigma(x))$ |
# | tanh | $1 - \tanh^2(x)$ |
# | relu | 1 for $x > 0$, else 0 |
# | leaky_relu | 1 for $x > 0$, else `negative_slope` |
# | elu | 1 for $x > 0$, else $\alpha e^x$ |
# | gelu (exact) | $\Phi(x) + x\,\varphi(x)$, with $\varphi(x) = e^{-x^2/2} / \sqrt{2\pi}$ |
#
# For large $|x|$, $1 - \sigma(x)$ and $1 - \tanh^2(x)$ lose every digit to cancellation.  Exact
# forms without cancellation: $\sigma'(x) = z/(1+z)^2$ with $z = e^{-|x|}$, and
# $1 - \tanh^2(x) = 4z/(1+z)^2$ with $z = e^{-2|x|}$.

# %% role="answer"
def sigmoid_backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad_out * sigma'(x), where sigma'(x) = sigma(x) (1 - sigma(x))."""
    ### BEGIN SOLUTION
    z = torch.exp(-x.abs())
    return grad_out * (z / (1 + z) ** 2)  # sigma' is even: sigma(|x|) * sigma(-|x|)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("sigmoid_backward")
    _check_returns("sigmoid_backward", torch.ones(3), torch.zeros(3))
    from torch.testing import assert_close

    x = torch.linspace(-30, 30, 601, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(601, dtype=torch.float64)
    (expected,) = torch.autograd.grad(torch.sigmoid(x), x, grad_out)
    x = x.detach()
    assert_close(sigmoid_backward(grad_out, x), expected, rtol=1e-9, atol=1e-15)
    assert sigmoid_backward(torch.ones(1), torch.zeros(1)).item() == 0.25, \
        "sigmoid_backward at x = 0 with grad_out = 1 should be 0.25"
    assert torch.isfinite(sigmoid_backward(torch.ones(2), torch.tensor([-1e4, 1e4]))).all(), \
        "sigmoid_backward(±1e4) should be finite"
    print("sigmoid_backward: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def tanh_backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad_out * tanh'(x), where tanh'(x) = 1 - tanh(x)^2."""
    ### BEGIN SOLUTION
    z = torch.exp(-2 * x.abs())
    return grad_out * (4 * z / (1 + z) ** 2)  # 1 - tanh^2 = sech^2, even in x
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("tanh_backward")
    _check_returns("tanh_backward", torch.ones(3), torch.zeros(3))
    from torch.testing import assert_close

    x = torch.linspace(-15, 15, 301, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(301, dtype=torch.float64)
    (expected,) = torch.autograd.grad(torch.tanh(x), x, grad_out)
    x = x.detach()
    assert_close(tanh_backward(grad_out, x), expected, rtol=1e-9, atol=1e-15)
    assert tanh_backward(torch.ones(1), torch.zeros(1)).item() == 1.0, \
        "tanh_backward at x = 0 with grad_out = 1 should be 1"
    assert torch.isfinite(tanh_backward(torch.ones(2), torch.tensor([-1e4, 1e4]))).all(), \
        "tanh_backward(±1e4) should be finite"
    print("tanh_backward: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def relu_backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad_out where x > 0, else 0 (autograd's choice at x == 0 is 0)."""
    ### BEGIN SOLUTION
    return torch.where(x > 0, grad_out, torch.zeros_like(grad_out))
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("relu_backward")
    _check_returns("relu_backward", torch.ones(3), torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    grad_out = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    (expected,) = torch.autograd.grad(F.relu(x), x, grad_out)
    assert_close(relu_backward(grad_out, x.detach()), expected, rtol=0, atol=0)
    assert relu_backward(torch.ones(1), torch.zeros(1)).item() == 0.0, "relu'(0) should be 0"
    print("relu_backward: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def leaky_relu_backward(
    grad_out: torch.Tensor, x: torch.Tensor, negative_slope: float = 0.01
) -> torch.Tensor:
    """grad_out where x > 0, else negative_slope * grad_out (also at x == 0, as autograd)."""
    ### BEGIN SOLUTION
    return torch.where(x > 0, grad_out, negative_slope * grad_out)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("leaky_relu_backward")
    _check_returns("leaky_relu_backward", torch.ones(3), torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    grad_out = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    for slope in (0.01, 0.2):
        (expected,) = torch.autograd.grad(F.leaky_relu(x, slope), x, grad_out)
        assert_close(leaky_relu_backward(grad_out, x.detach(), slope), expected, rtol=1e-15, atol=0)
    print("leaky_relu_backward: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def elu_backward(grad_out: torch.Tensor, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """grad_out where x > 0, else grad_out * alpha * exp(x) (alpha at x == 0, as autograd)."""
    ### BEGIN SOLUTION
    return torch.where(x > 0, grad_out, grad_out * alpha * torch.exp(torch.clamp(x, max=0)))
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("elu_backward")
    _check_returns("elu_backward", torch.ones(3), torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-20, 20, 401, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(401, dtype=torch.float64)
    for alpha in (1.0, 2.0):
        (expected,) = torch.autograd.grad(F.elu(x, alpha), x, grad_out)
        assert_close(elu_backward(grad_out, x.detach(), alpha), expected, rtol=1e-12, atol=1e-15)
    assert elu_backward(torch.ones(1), torch.zeros(1), alpha=2.0).item() == 2.0, "elu'(0) is alpha"
    assert torch.isfinite(elu_backward(torch.ones(2), torch.tensor([-1e4, 1e4]))).all(), \
        "elu_backward(±1e4) should be finite"
    print("elu_backward: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def gelu_backward(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad_out * (Phi(x) + x phi(x)), the derivative of the exact GELU x Phi(x)."""
    ### BEGIN SOLUTION
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return grad_out * (cdf + x * pdf)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("gelu_backward")
    _check_returns("gelu_backward", torch.ones(3), torch.zeros(3))
    import torch.nn.functional as F
    from torch.testing import assert_close

    x = torch.linspace(-10, 10, 401, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(401, dtype=torch.float64)
    (expected,) = torch.autograd.grad(F.gelu(x), x, grad_out)
    assert_close(gelu_backward(grad_out, x.detach()), expected, rtol=1e-12, atol=1e-15)
    assert gelu_backward(torch.ones(1), torch.zeros(1)).item() == 0.5, \
        "gelu_backward at x = 0 with grad_out = 1 should be 0.5"
    assert torch.isfinite(gelu_backward(torch.ones(2), torch.tensor([-1e4, 1e4]))).all(), \
        "gelu_backward(±1e4) should be finite"
    print("gelu_backward: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### See your activations
#
# The next cell plots your functions and your derivatives.  Look for saturation (where the
# derivative is close to 0 for large $|x|$), for the kinks at 0, and for the functions that are
# zero-centred.

# %% role="plot"
import matplotlib.pyplot as plt

try:
    xs = torch.linspace(-5, 5, 501)
    ones = torch.ones_like(xs)
    curves = {
        "sigmoid": (sigmoid(xs), sigmoid_backward(ones, xs)),
        "tanh": (tanh(xs), tanh_backward(ones, xs)),
        "relu": (relu(xs), relu_backward(ones, xs)),
        "leaky_relu(0.1)": (leaky_relu(xs, 0.1), leaky_relu_backward(ones, xs, 0.1)),
        "elu": (elu(xs), elu_backward(ones, xs)),
        "selu": (selu(xs), None),
        "gelu": (gelu(xs), gelu_backward(ones, xs)),
        "silu": (silu(xs), None),
    }
except NotImplementedError:
    print("Implement the activation functions and their derivatives above to see this plot.")
else:
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, (values, slope) in curves.items():
        (line,) = ax_f.plot(xs, values, label=name)
        if slope is not None:
            ax_d.plot(xs, slope, label=name, color=line.get_color())
    ax_f.set(title="activation f(x)", xlabel="x", ylim=(-2, 5))
    ax_d.set(title="derivative f'(x) (your *_backward with grad_out = 1)", xlabel="x")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend(fontsize=8)
    plt.show()

# %% [markdown]
# ## Part 3 — Weight initialisation (Chapter 3)
#
# ### Fans
#
# A weight of shape `(out_features, in_features)` or, for a convolution,
# `(out_channels, in_channels, k_1, k_2, ...)` connects each output unit to
# $\text{fan\_in} = \text{in} \cdot k_1 k_2 \cdots$ inputs and each input to
# $\text{fan\_out} = \text{out} \cdot k_1 k_2 \cdots$ outputs (for a 3×3 convolution
# $\text{fan\_in} = 9\,C_\text{in}$).  `calculate_fan_in_and_fan_out(shape)` takes the shape (a
# tuple or `torch.Size`), returns `(fan_in, fan_out)` as Python ints, and raises `ValueError` for
# fewer than 2 dimensions.

# %% role="answer"
def calculate_fan_in_and_fan_out(shape: tuple[int, ...] | torch.Size) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape: (in, out) times the receptive field size."""
    ### BEGIN SOLUTION
    dims = tuple(shape.shape) if isinstance(shape, torch.Tensor) else tuple(shape)
    if len(dims) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(dims[2:])  # 1 for a linear layer
    return int(dims[1] * receptive_field), int(dims[0] * receptive_field)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("calculate_fan_in_and_fan_out")
    _check_returns("calculate_fan_in_and_fan_out", (4, 3))
    assert calculate_fan_in_and_fan_out((20, 30)) == (30, 20), \
        "the fans of a (20, 30) linear weight are (30, 20)"
    assert calculate_fan_in_and_fan_out(torch.Size([64, 3, 3, 3])) == (27, 576), \
        "the fans of a (64, 3, 3, 3) conv weight are (27, 576)"
    assert calculate_fan_in_and_fan_out((8, 4, 5)) == (20, 40), \
        "the fans of a (8, 4, 5) conv1d weight are (20, 40)"
    try:
        calculate_fan_in_and_fan_out((10,))
    except ValueError:
        pass
    else:
        raise AssertionError("a 1-D shape should raise ValueError")
    print("calculate_fan_in_and_fan_out: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### Gains
#
# The gain corrects the variance for what the nonlinearity does to it: 1 for `"linear"`, the
# convolutions (`"conv1d"`, `"conv2d"`, `"conv3d"`, `"conv_transpose1d"`, `"conv_transpose2d"`,
# `"conv_transpose3d"`) and `"sigmoid"`; 5/3 for `"tanh"`; $\sqrt2$ for `"relu"` (ReLU zeroes
# half of its inputs, He et al., 2015); $\sqrt{2 / (1 + \text{slope}^2)}$ for `"leaky_relu"`
# (`param` is the negative slope, 0.01 when `None`; a `param` that is not an int or float, or is a
# bool, raises `ValueError`); 3/4 for `"selu"`.  Any other name raises `ValueError`.

# %% role="answer"
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain."""
    ### BEGIN SOLUTION
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d")
    linear_fns += ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("calculate_gain")
    _check_returns("calculate_gain", "relu")
    import torch.nn as nn

    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        expected = nn.init.calculate_gain(name, param)
        assert math.isclose(calculate_gain(name, param), expected), f"calculate_gain({name!r})"
    for bad in [("softmax", None), ("leaky_relu", "0.2"), ("leaky_relu", True)]:
        try:
            calculate_gain(*bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"calculate_gain{bad} should raise ValueError")
    print("calculate_gain: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### Xavier (Glorot) initialisation
#
# Glorot & Bengio (2010), *Understanding the difficulty of training deep feedforward neural
# networks*: keep the variance of activations (forward) and of gradients (backward) constant by
# giving the weights variance $2 / (\text{fan\_in} + \text{fan\_out})$, times `gain`² for the
# nonlinearity:
#
# - `xavier_normal_`: $W \sim \mathcal N(0, \text{std}^2)$ with
#   $\text{std} = \text{gain}\cdot\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}$;
# - `xavier_uniform_`: $W \sim \mathcal U(-a, a)$ with $a = \sqrt3\cdot\text{std}$ (a uniform
#   variable on $(-a, a)$ has variance $a^2/3$).
#
# Fill `tensor` **in place** (`tensor.uniform_(..., generator=generator)`,
# `tensor.normal_(...)`) inside `torch.no_grad()` (a weight usually has `requires_grad=True`), and
# return `tensor` itself.

# %% role="answer"
def xavier_uniform_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill tensor with U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot, 2010)."""
    ### BEGIN SOLUTION
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-a, a) has variance a^2 / 3
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("xavier_uniform_")
    _check_returns("xavier_uniform_", torch.empty(4, 3))
    torch.manual_seed(0)
    w = torch.empty(300, 200, requires_grad=True)
    out = xavier_uniform_(w, gain=2.0)
    assert out is w, "xavier_uniform_ must fill the tensor in place and return it"
    assert out.grad_fn is None, "initialisation must not be recorded by autograd"
    bound = 2.0 * math.sqrt(6 / (300 + 200))
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound, \
        "the values should fill U(-bound, bound) up to close to the bound"
    assert abs(w.detach().std().item() - bound / math.sqrt(3)) < 0.01 * bound, \
        "the std of U(-a, a) should be a / sqrt(3)"
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(xavier_uniform_(torch.empty(5, 5), generator=g1),
                       xavier_uniform_(torch.empty(5, 5), generator=g2)), "use the generator"
    print("xavier_uniform_: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def xavier_normal_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill tensor with N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot, 2010)."""
    ### BEGIN SOLUTION
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("xavier_normal_")
    _check_returns("xavier_normal_", torch.empty(4, 3))
    torch.manual_seed(0)
    w = torch.empty(400, 600, dtype=torch.float64, requires_grad=True)
    out = xavier_normal_(w)
    assert out is w and out.grad_fn is None and out.dtype == torch.float64, \
        "xavier_normal_ should fill w in place (no autograd record, dtype kept) and return it"
    std = math.sqrt(2 / (400 + 600))
    assert abs(w.detach().std().item() - std) < 0.02 * std, "std should be sqrt(2/(fan_in+fan_out))"
    assert abs(w.detach().mean().item()) < 0.01 * std, "the values should be centred on 0"
    print("xavier_normal_: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### Kaiming (He) initialisation
#
# He et al. (2015), *Delving Deep into Rectifiers*: a ReLU zeroes half of its input, so keeping the
# variance constant through layer $\ell$ needs $\text{fan} \cdot \operatorname{Var}(W) = 2$, with
# the fan of the direction you care about (`mode="fan_in"` for the forward pass, `"fan_out"` for
# the backward pass).  In general $\text{std} = \text{gain} / \sqrt{\text{fan}}$ with
# `gain = calculate_gain(nonlinearity, a)`, where `a` is the negative slope of a leaky ReLU.
# `kaiming_uniform_` draws from $\mathcal U(-\sqrt3\,\text{std}, \sqrt3\,\text{std})$,
# `kaiming_normal_` from $\mathcal N(0, \text{std}^2)$.  An unknown `mode` (after `.lower()`)
# raises `ValueError`; like PyTorch, a tensor with a zero-size dimension is returned unchanged.

# %% role="answer"
def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill tensor with U(-b, b), b = gain * sqrt(3 / fan) (He et al., 2015)."""
    ### BEGIN SOLUTION
    if 0 in tensor.shape:  # nothing to fill (PyTorch warns and returns)
        return tensor
    fan = _correct_fan(tensor.shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def _correct_fan(shape: torch.Size, mode: str) -> int:
    """fan_in or fan_out of a weight of this shape, as mode says."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("kaiming_uniform_")
    _check_returns("kaiming_uniform_", torch.empty(4, 3))
    torch.manual_seed(0)
    w = torch.empty(256, 64, 3, 3, requires_grad=True)
    out = kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    assert out is w and out.grad_fn is None, \
        "kaiming_uniform_ should fill w in place (no autograd record) and return it"
    std = math.sqrt(2.0) / math.sqrt(64 * 9)
    assert w.abs().max() <= math.sqrt(3) * std, \
        "the values should lie within the bound sqrt(3) * std"
    assert abs(w.detach().std().item() - std) < 0.02 * std, "std should be gain / sqrt(fan_in)"
    kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.detach().std().item() - math.sqrt(2.0 / (256 * 9))) < 0.02 * math.sqrt(2 / 2304), \
        "with mode='fan_out' the std should be gain / sqrt(fan_out)"
    try:
        kaiming_uniform_(torch.empty(3, 3), mode="fan_avg")
    except ValueError:
        pass
    else:
        raise AssertionError("mode='fan_avg' should raise ValueError")
    print("kaiming_uniform_: visible tests passed")


_visible_test()
del _visible_test


# %% role="answer"
def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill tensor with N(0, std^2), std = gain / sqrt(fan) (He et al., 2015)."""
    ### BEGIN SOLUTION
    if 0 in tensor.shape:
        return tensor
    fan = _correct_fan(tensor.shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)
    ### END SOLUTION


# %% role="test"
def _visible_test():
    _check_allowed("kaiming_normal_")
    _check_returns("kaiming_normal_", torch.empty(4, 3))
    torch.manual_seed(0)
    w = torch.empty(500, 400, requires_grad=True)
    out = kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu")
    assert out is w and out.grad_fn is None, \
        "kaiming_normal_ should fill w in place (no autograd record) and return it"
    std = math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(400)
    assert abs(w.detach().std().item() - std) < 0.02 * std, "std should be gain / sqrt(fan_in)"
    try:
        kaiming_normal_(torch.empty(3, 3), nonlinearity="softmax")
    except ValueError:
        pass
    else:
        raise AssertionError("an unsupported nonlinearity should raise ValueError")
    print("kaiming_normal_: visible tests passed")


_visible_test()
del _visible_test


# %% [markdown]
# ### Activation statistics through a deep network
#
# The lectures push a batch through a stack of tanh layers initialised with $W = 0.01\cdot$`randn`
# and watch the activations' standard deviation shrink layer after layer.  The next cell repeats
# the experiment with your functions (six layers of width 1024, so the numbers differ from the
# lectures' width 4096) for four schemes.  A good initialisation keeps the curve flat.

# %% role="plot"
import matplotlib.pyplot as plt


def layer_stds(init, activation, depth=6, width=1024, batch=64, seed=0):
    """Standard deviation of each layer's activations for a freshly initialised MLP."""
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=generator)
    stds = []
    for _ in range(depth):
        weight = init(torch.empty(width, width), generator)
        h = activation(h @ weight.T)
        stds.append(h.std().item())
    return stds


schemes = {
    "tanh, W = 0.01 randn": (lambda w, g: w.normal_(0, 0.01, generator=g), "tanh"),
    "tanh, Xavier (gain 5/3)": (
        lambda w, g: xavier_normal_(w, calculate_gain("tanh"), generator=g), "tanh"),
    "relu, Xavier (gain 1)": (lambda w, g: xavier_normal_(w, generator=g), "relu"),
    "relu, Kaiming (fan_in)": (
        lambda w, g: kaiming_normal_(w, nonlinearity="relu", generator=g), "relu"),
}
try:
    results = {
        name: layer_stds(init, tanh if act == "tanh" else relu)
        for name, (init, act) in schemes.items()
    }
except NotImplementedError:
    print("Implement tanh, relu, calculate_gain, xavier_normal_ and kaiming_normal_ first.")
else:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, stds in results.items():
        ax.plot(range(1, 7), stds, marker="o", label=name)
        print(f"{name:26s}", " ".join(f"{s:.3f}" for s in stds))
    ax.set(yscale="log", xlabel="layer", ylabel="std of activations",
           title="Activation statistics at initialisation")
    ax.legend()
    plt.show()

# %% [markdown] role="question" grade_id="q_init_question"
# ## Question 1 (written, graded by hand)
#
# Use the printed numbers above.  With $W = 0.01\cdot$`randn`, what happens to the activations
# from layer to layer, and what does that do to the gradients of the weights of the early layers
# (recall that $\partial L / \partial W_\ell = h_{\ell-1}^\top\,\delta_\ell$)?  Why does Xavier's
# choice of variance fix it for tanh, and why does a ReLU network need Kaiming's extra factor 2?

# %% [markdown] role="manual" grade_id="q_init" points=5
# With $W = 0.01\cdot$`randn` each layer multiplies the variance of its input by about
# $\text{fan\_in}\cdot 10^{-4}\approx 0.1$ (and tanh, nearly linear near 0, does not undo it), so
# the standard deviation shrinks geometrically and the last layers' activations are close to 0.
# The gradient of $W_\ell$ is $h_{\ell-1}^\top\delta_\ell$; the backward pass multiplies $\delta$
# by the same small weights, so the gradients vanish too and the network barely learns.
#
# Xavier picks $\operatorname{Var}(W) = 1/\text{fan\_in}$ (or $2/(\text{fan\_in} +
# \text{fan\_out})$ to balance both passes), which makes
# $\operatorname{Var}(Wh) = \text{fan\_in}\operatorname{Var}(W)\operatorname{Var}(h) =
# \operatorname{Var}(h)$ for a unit-slope nonlinearity; the curve stays flat.  A ReLU zeroes half of
# its inputs, so $E[\operatorname{relu}(y)^2] = \operatorname{Var}(y)/2$: with Xavier's variance
# every layer halves the signal (the falling "relu, Xavier" curve), and Kaiming's
# $\operatorname{Var}(W) = 2/\text{fan\_in}$ compensates exactly.

# %% [markdown] role="question" grade_id="q_saturation_question"
# ## Question 2 (written, graded by hand)
#
# Look at your derivative plot.  Give two reasons why sigmoid is a poor choice for hidden layers
# (one about its derivative, one about its outputs), and say what a "dead" ReLU is and how Leaky
# ReLU, ELU or GELU avoid it.

# %% [markdown] role="manual" grade_id="q_saturation" points=5
# 1. *Saturation*: $\sigma'(x) = \sigma(x)(1-\sigma(x)) \le 1/4$ and is close to 0 for $|x|$
#    larger than a few units, so the backward pass multiplies the gradient by a small factor at
#    every sigmoid layer and it vanishes in deep networks.
# 2. *Not zero-centred*: the outputs are all positive, so the inputs of the next layer are all
#    positive and the gradients of a neuron's weights $\partial L/\partial w_i = \delta\, x_i$ all
#    have the sign of $\delta$: the update can only move all weights up or all down, which gives
#    zig-zag paths.  (Also, `exp` is relatively expensive.)
#
# A ReLU whose pre-activation is negative for every input outputs 0 and has derivative 0, so it
# never receives a gradient again: it is dead (bad initialisation or a too large learning rate can
# cause it).  Leaky ReLU, ELU and GELU have a non-zero slope (or smooth non-zero output) for
# negative inputs, so a gradient still flows and the unit can recover.
