"""Catalogue of a1_activations_init: activation functions, derivatives and initialisers."""

from __future__ import annotations

import textwrap

from . import correct, wrong

A = "a1_activations_init"

# The kaiming_uniform_ cell of the solution also defines _correct_fan, which kaiming_normal_ uses.
CORRECT_FAN = '''
def _correct_fan(shape, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"unknown mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out
'''

# Issue 13: the classes of bugs the suites missed (relative accuracy at tiny |x|, half precision
# and 0-d dtype slips through float32 masks and scalar tensors, in-place writes on some path,
# zero-size weights, conventions of widely used code), and more valid alternatives.
ISSUE_13 = [
    # ------------------------------------------------------------------ wrong: activations
    wrong(A, "tanh", "a1-tanh-as-two-sigmoid-of-two-x-minus-one",
          "2 sigma(2x) - 1 subtracts two numbers close to 1 near 0: tanh(1e-10) keeps ~7 digits "
          "where the notebook asks for a relative error of 1e-9",
          """
          def tanh(x):
              return 2 * sigmoid(2 * x) - 1
          """),
    wrong(A, "tanh", "a1-tanh-exp-ratio-of-two-x-overflows",
          "(1 - e^-2x) / (1 + e^-2x): e^-2x = inf for x << 0 gives inf / inf = nan",
          """
          def tanh(x):
              e = torch.exp(-2 * x)
              return (1 - e) / (1 + e)
          """),
    wrong(A, "tanh", "a1-tanh-stable-but-without-expm1",
          "sign(x) (1 - z) / (1 + z), z = e^-2|x|: finite everywhere, but 1 - z cancels near 0 "
          "(relative error ~1e-6 at |x| = 1e-10)",
          """
          def tanh(x):
              z = torch.exp(-2 * x.abs())
              return torch.sign(x) * (1 - z) / (1 + z)
          """),
    wrong(A, "sigmoid", "a1-sigmoid-float32-branch-mask",
          "blends the branches with (x >= 0).float(): float16 in, float32 out (silu and gelu, "
          "which call sigmoid, inherit the slip)",
          """
          def sigmoid(x):
              z = torch.exp(-x.abs())
              positive = (x >= 0).float()
              return positive / (1 + z) + (1 - positive) * z / (1 + z)
          """, also=("silu", "gelu")),
    wrong(A, "relu", "a1-relu-times-float32-mask",
          "x * (x > 0).float(): float16 and bfloat16 inputs come back as float32",
          """
          def relu(x):
              return x * (x > 0).float()
          """),
    wrong(A, "relu", "a1-relu-maximum-with-a-float32-scalar-tensor",
          "torch.maximum(x, torch.tensor(0.0)): a 0-d float16 input promotes to float32",
          """
          def relu(x):
              return torch.maximum(x, torch.tensor(0.0, device=x.device))
          """),
    wrong(A, "relu", "a1-relu-zeroes-negatives-in-place",
          "x[x < 0] = 0 writes into the caller's tensor",
          """
          def relu(x):
              x[x < 0] = 0
              return x
          """),
    wrong(A, "leaky_relu", "a1-leaky-relu-as-max-of-x-and-slope-x",
          "max(x, slope x) is leaky ReLU only for slope <= 1: wrong for negative_slope = 1.5",
          """
          def leaky_relu(x, negative_slope=0.01):
              return torch.maximum(x, negative_slope * x)
          """),
    wrong(A, "leaky_relu", "a1-leaky-relu-scales-an-alias-in-place",
          "out = x; out[x < 0] *= slope: out is x, so the input is modified",
          """
          def leaky_relu(x, negative_slope=0.01):
              out = x
              out[x < 0] *= negative_slope
              return out
          """),
    wrong(A, "elu", "a1-elu-exp-minus-one",
          "alpha (e^x - 1) instead of expm1: elu(-1e-10) keeps ~6 digits (selu, which calls elu, "
          "too)",
          """
          def elu(x, alpha=1.0):
              return torch.where(x > 0, x, alpha * (torch.exp(torch.clamp(x, max=0)) - 1))
          """, also=("selu",)),
    wrong(A, "elu", "a1-elu-float32-mask",
          "mask = (x > 0).float() blends the branches: float16 in, float32 out (and selu)",
          """
          def elu(x, alpha=1.0):
              mask = (x > 0).float()
              return mask * x + (1 - mask) * alpha * torch.expm1(torch.clamp(x, max=0))
          """, also=("selu",)),
    wrong(A, "selu", "a1-selu-scales-only-the-positive-branch",
          "scale * x for x > 0 but alpha (e^x - 1) without the scale for x <= 0",
          """
          _SELU_ALPHA = 1.6732632423543772848170429916717
          _SELU_SCALE = 1.0507009873554804934193349852946


          def selu(x):
              return torch.where(x > 0, _SELU_SCALE * x, elu(x, _SELU_ALPHA))
          """),
    wrong(A, "selu", "a1-selu-constants-swapped",
          "alpha and scale swapped: 1.6733 * elu(x, 1.0507)",
          """
          _SELU_ALPHA = 1.6732632423543772848170429916717
          _SELU_SCALE = 1.0507009873554804934193349852946


          def selu(x):
              return _SELU_ALPHA * elu(x, _SELU_SCALE)
          """),
    wrong(A, "gelu", "a1-gelu-tanh-constant-0-04715",
          "the cubic coefficient typed 0.04715 instead of 0.044715: the tanh form is off",
          """
          def gelu(x, approximate="none"):
              if approximate == "none":
                  return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
              if approximate == "tanh":
                  inner = math.sqrt(2.0 / math.pi) * (x + 0.04715 * x**3)
                  return x * sigmoid(2 * inner)
              if approximate == "sigmoid":
                  return x * sigmoid(1.702 * x)
              raise ValueError(approximate)
          """),
    wrong(A, "gelu", "a1-gelu-tanh-with-sqrt-2-over-pi-as-2-over-pi",
          "sqrt(2/pi) written as 2/pi in the tanh form",
          """
          def gelu(x, approximate="none"):
              if approximate == "none":
                  return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
              if approximate == "tanh":
                  inner = 2.0 / math.pi * (x + 0.044715 * x**3)
                  return x * sigmoid(2 * inner)
              if approximate == "sigmoid":
                  return x * sigmoid(1.702 * x)
              raise ValueError(approximate)
          """),
    wrong(A, "gelu", "a1-gelu-exact-with-erf-of-x-over-2",
          "erf(x / 2) instead of erf(x / sqrt 2) in the exact form",
          """
          def gelu(x, approximate="none"):
              if approximate == "none":
                  return 0.5 * x * (1 + torch.erf(x / 2.0))
              if approximate == "tanh":
                  inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
                  return x * sigmoid(2 * inner)
              if approximate == "sigmoid":
                  return x * sigmoid(1.702 * x)
              raise ValueError(approximate)
          """),
    wrong(A, "gelu", "a1-gelu-tanh-form-with-exp-ratio-tanh",
          "0.5 x (1 + (e^u - e^-u) / (e^u + e^-u)): inf / inf = nan for large |x|",
          """
          def gelu(x, approximate="none"):
              if approximate == "none":
                  return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
              if approximate == "tanh":
                  u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
                  t = (torch.exp(u) - torch.exp(-u)) / (torch.exp(u) + torch.exp(-u))
                  return 0.5 * x * (1 + t)
              if approximate == "sigmoid":
                  return x * sigmoid(1.702 * x)
              raise ValueError(approximate)
          """),
    wrong(A, "silu", "a1-silu-exp-ratio-overflows",
          "x e^x / (1 + e^x): inf / inf = nan for x >> 0",
          """
          def silu(x):
              e = torch.exp(x)
              return x * e / (1 + e)
          """),
    # ------------------------------------------------------------------ wrong: derivatives
    wrong(A, "sigmoid_backward", "a1-sigmoid-backward-treats-x-as-the-output",
          "grad_out * x (1 - x): the output-based formula applied to the input",
          """
          def sigmoid_backward(grad_out, x):
              return grad_out * x * (1 - x)
          """),
    wrong(A, "tanh_backward", "a1-tanh-backward-treats-x-as-the-output",
          "grad_out * (1 - x^2): the output-based formula applied to the input",
          """
          def tanh_backward(grad_out, x):
              return grad_out * (1 - x * x)
          """),
    wrong(A, "relu_backward", "a1-relu-backward-times-float32-mask",
          "grad_out * (x > 0).float(): float16 and bfloat16 come back as float32",
          """
          def relu_backward(grad_out, x):
              return grad_out * (x > 0).float()
          """),
    wrong(A, "relu_backward", "a1-relu-backward-zeroes-grad-out-in-place",
          "grad_out[x <= 0] = 0 writes into the caller's gradient",
          """
          def relu_backward(grad_out, x):
              grad_out[x <= 0] = 0
              return grad_out
          """),
    wrong(A, "leaky_relu_backward", "a1-leaky-relu-backward-where-of-python-scalars",
          "torch.where(x > 0, 1.0, slope) is float32: float16 gradients come back as float32",
          """
          def leaky_relu_backward(grad_out, x, negative_slope=0.01):
              return grad_out * torch.where(x > 0, 1.0, negative_slope)
          """),
    wrong(A, "leaky_relu_backward", "a1-leaky-relu-backward-ignores-negative-slope",
          "hard-codes the default slope 0.01",
          """
          def leaky_relu_backward(grad_out, x, negative_slope=0.01):
              return torch.where(x > 0, grad_out, 0.01 * grad_out)
          """),
    wrong(A, "elu_backward", "a1-elu-backward-forgets-alpha",
          "e^x for x <= 0 instead of alpha e^x: right only for alpha = 1",
          """
          def elu_backward(grad_out, x, alpha=1.0):
              return torch.where(x > 0, grad_out, grad_out * torch.exp(torch.clamp(x, max=0)))
          """),
    wrong(A, "gelu_backward", "a1-gelu-backward-of-the-tanh-approximation",
          "differentiates the tanh approximation, not the exact form the contract names",
          """
          def gelu_backward(grad_out, x):
              c = math.sqrt(2.0 / math.pi)
              u = c * (x + 0.044715 * x**3)
              t = tanh(u)
              du = c * (1 + 3 * 0.044715 * x * x)
              return grad_out * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
          """),
    wrong(A, "gelu_backward", "a1-gelu-backward-pdf-without-normalisation",
          "phi(x) = e^(-x^2/2) without the 1 / sqrt(2 pi)",
          """
          def gelu_backward(grad_out, x):
              cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2.0)))
              return grad_out * (cdf + x * torch.exp(-0.5 * x * x))
          """),
    # ------------------------------------------------------------------ wrong: init
    wrong(A, "calculate_fan_in_and_fan_out", "a1-fans-without-the-receptive-field",
          "(dims[1], dims[0]) for every rank: conv fans miss k^2; xavier and kaiming inherit it",
          """
          def calculate_fan_in_and_fan_out(shape):
              dims = tuple(shape)
              if len(dims) < 2:
                  raise ValueError("need at least 2 dimensions")
              return dims[1], dims[0]
          """, also=("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")),
    wrong(A, "calculate_fan_in_and_fan_out", "a1-fans-of-a-vector-do-not-raise",
          "a 1-D shape gives (n, n) instead of ValueError; the initialisers stop raising too",
          """
          def calculate_fan_in_and_fan_out(shape):
              dims = tuple(shape)
              if len(dims) < 2:
                  return (dims[0], dims[0]) if dims else (1, 1)
              receptive_field = math.prod(dims[2:])
              return dims[1] * receptive_field, dims[0] * receptive_field
          """, also=("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")),
    wrong(A, "calculate_gain", "a1-gain-of-leaky-relu-without-the-square",
          "sqrt(2 / (1 + slope)) instead of sqrt(2 / (1 + slope^2)); kaiming with a = 0.2 too",
          """
          def calculate_gain(nonlinearity, param=None):
              if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"):
                  return 1.0
              if nonlinearity == "tanh":
                  return 5.0 / 3
              if nonlinearity == "relu":
                  return math.sqrt(2.0)
              if nonlinearity == "leaky_relu":
                  if param is None:
                      slope = 0.01
                  elif isinstance(param, (int, float)) and not isinstance(param, bool):
                      slope = param
                  else:
                      raise ValueError(f"bad negative slope {param}")
                  return math.sqrt(2.0 / (1 + slope))
              if nonlinearity == "selu":
                  return 0.75
              raise ValueError(f"unsupported nonlinearity {nonlinearity}")
          """, also=("kaiming_uniform_", "kaiming_normal_")),
    wrong(A, "calculate_gain", "a1-gain-of-leaky-relu-defaults-to-slope-0",
          "param None read as slope 0 (kaiming's a = 0): sqrt(2) instead of sqrt(2 / 1.0001)",
          """
          def calculate_gain(nonlinearity, param=None):
              if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"):
                  return 1.0
              if nonlinearity == "tanh":
                  return 5.0 / 3
              if nonlinearity == "relu":
                  return math.sqrt(2.0)
              if nonlinearity == "leaky_relu":
                  if param is None:
                      slope = 0.0
                  elif isinstance(param, (int, float)) and not isinstance(param, bool):
                      slope = param
                  else:
                      raise ValueError(f"bad negative slope {param}")
                  return math.sqrt(2.0 / (1 + slope**2))
              if nonlinearity == "selu":
                  return 0.75
              raise ValueError(f"unsupported nonlinearity {nonlinearity}")
          """),
    wrong(A, "calculate_gain", "a1-gain-accepts-a-bool-slope",
          "isinstance(True, int) holds: calculate_gain('leaky_relu', True) returns 1",
          """
          def calculate_gain(nonlinearity, param=None):
              if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"):
                  return 1.0
              if nonlinearity == "tanh":
                  return 5.0 / 3
              if nonlinearity == "relu":
                  return math.sqrt(2.0)
              if nonlinearity == "leaky_relu":
                  if param is None:
                      slope = 0.01
                  elif isinstance(param, (int, float)):
                      slope = param
                  else:
                      raise ValueError(f"bad negative slope {param}")
                  return math.sqrt(2.0 / (1 + slope**2))
              if nonlinearity == "selu":
                  return 0.75
              raise ValueError(f"unsupported nonlinearity {nonlinearity}")
          """),
    wrong(A, "xavier_uniform_", "a1-xavier-uniform-with-fan-in-only",
          "LeCun's bound gain sqrt(3 / fan_in) instead of Glorot's gain sqrt(6 / (in + out))",
          """
          def xavier_uniform_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              bound = gain * math.sqrt(3.0 / fan_in)
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound, generator=generator)
          """),
    wrong(A, "xavier_uniform_", "a1-xavier-uniform-ignores-the-generator",
          "draws from the global generator: the same generator state gives different weights",
          """
          def xavier_uniform_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound)
          """),
    wrong(A, "xavier_normal_", "a1-xavier-normal-passes-the-variance-as-std",
          "normal_(0, 2 / (fan_in + fan_out)): the variance where normal_ takes a std",
          """
          def xavier_normal_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              with torch.no_grad():
                  return tensor.normal_(0.0, gain**2 * 2.0 / (fan_in + fan_out),
                                        generator=generator)
          """),
    wrong(A, "kaiming_uniform_", "a1-kaiming-modes-swapped",
          "_correct_fan returns fan_out for 'fan_in' and vice versa; kaiming_normal_ uses it too",
          """
          def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                               generator=None):
              if 0 in tensor.shape:
                  return tensor
              fan = _correct_fan(tensor.shape, mode)
              bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound, generator=generator)


          def _correct_fan(shape, mode):
              mode = mode.lower()
              if mode not in ("fan_in", "fan_out"):
                  raise ValueError(f"unknown mode {mode}")
              fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
              return fan_out if mode == "fan_in" else fan_in
          """, also=("kaiming_normal_",)),
    wrong(A, "kaiming_uniform_", "a1-kaiming-uniform-bound-without-sqrt-3",
          "bound gain / sqrt(fan): the std where the uniform bound sqrt(3) std belongs",
          textwrap.dedent("""
          def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                               generator=None):
              if 0 in tensor.shape:
                  return tensor
              bound = calculate_gain(nonlinearity, a) / math.sqrt(_correct_fan(tensor.shape, mode))
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound, generator=generator)
          """) + CORRECT_FAN),
    wrong(A, "kaiming_normal_", "a1-kaiming-normal-without-the-zero-size-guard",
          "a (4, 0) weight has fan_in 0: ZeroDivisionError instead of returning it unchanged",
          """
          def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                              generator=None):
              std = calculate_gain(nonlinearity, a) / math.sqrt(_correct_fan(tensor.shape, mode))
              with torch.no_grad():
                  return tensor.normal_(0.0, std, generator=generator)
          """),
    wrong(A, "kaiming_normal_", "a1-kaiming-normal-doubles-the-relu-factor",
          "std = gain sqrt(2 / fan): He's factor 2 on top of the gain that already holds it",
          """
          def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                              generator=None):
              if 0 in tensor.shape:
                  return tensor
              fan = _correct_fan(tensor.shape, mode)
              std = calculate_gain(nonlinearity, a) * math.sqrt(2.0 / fan)
              with torch.no_grad():
                  return tensor.normal_(0.0, std, generator=generator)
          """),
    # ------------------------------------------------------------------ correct alternatives
    correct(A, "sigmoid", "a1-sigmoid-as-half-one-plus-tanh-of-half-x",
            "sigma(x) = (1 + tanh(x / 2)) / 2 through the student's stable tanh",
            """
            def sigmoid(x):
                return 0.5 * (1 + tanh(0.5 * x))
            """),
    correct(A, "tanh", "a1-tanh-from-expm1-alone",
            "with e = expm1(-2|x|): tanh|x| = -e / (e + 2), sign restored with copysign",
            """
            def tanh(x):
                e = torch.expm1(-2 * x.abs())
                return torch.copysign(-e / (e + 2), x)
            """),
    correct(A, "relu", "a1-relu-as-where-zeros-like",
            "torch.where(x > 0, x, zeros_like(x)): dtype and device from x",
            """
            def relu(x):
                return torch.where(x > 0, x, torch.zeros_like(x))
            """),
    correct(A, "leaky_relu", "a1-leaky-relu-where-x-non-negative",
            "x >= 0 picks x at 0, where slope * 0 is 0 too: the same values",
            """
            def leaky_relu(x, negative_slope=0.01):
                return torch.where(x >= 0, x, x * negative_slope)
            """),
    correct(A, "elu", "a1-elu-expm1-of-the-raw-input",
            "expm1(x) unclamped: inf in the discarded branch for x >> 0, but where picks x",
            """
            def elu(x, alpha=1.0):
                return torch.where(x > 0, x, alpha * torch.expm1(x))
            """),
    correct(A, "gelu", "a1-gelu-exact-with-erfc",
            "Phi(x) = erfc(-x / sqrt 2) / 2: more accurate for x << 0, within the tolerance",
            """
            def gelu(x, approximate="none"):
                if approximate == "none":
                    return 0.5 * x * torch.erfc(-x / math.sqrt(2.0))
                if approximate == "tanh":
                    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
                    return x * sigmoid(2 * inner)
                if approximate == "sigmoid":
                    return x * sigmoid(1.702 * x)
                raise ValueError(f"unknown approximation {approximate!r}")
            """),
    correct(A, "silu", "a1-silu-as-x-over-one-plus-exp-minus-x",
            "x / (1 + e^-x): e^-x = inf for x << 0 gives x / inf = -0, the right limit",
            """
            def silu(x):
                return x / (1 + torch.exp(-x))
            """),
    correct(A, "sigmoid_backward", "a1-sigmoid-backward-s-times-one-minus-s",
            "s (1 - s) with s = sigmoid(x): cancels for large x, but only below the tolerance",
            """
            def sigmoid_backward(grad_out, x):
                s = sigmoid(x)
                return grad_out * s * (1 - s)
            """),
    correct(A, "tanh_backward", "a1-tanh-backward-one-minus-tanh-squared",
            "1 - tanh(x)^2 through the student's tanh",
            """
            def tanh_backward(grad_out, x):
                t = tanh(x)
                return grad_out * (1 - t * t)
            """),
    correct(A, "elu_backward", "a1-elu-backward-from-the-output",
            "f'(x) = f(x) + alpha for x <= 0, through the student's elu",
            """
            def elu_backward(grad_out, x, alpha=1.0):
                return torch.where(x > 0, grad_out, grad_out * (elu(x, alpha) + alpha))
            """),
    correct(A, "calculate_gain", "a1-gain-from-a-table",
            "a dict of the fixed gains, then leaky_relu's formula",
            """
            _GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
                      "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
                      "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75}


            def calculate_gain(nonlinearity, param=None):
                if nonlinearity in _GAINS:
                    return _GAINS[nonlinearity]
                if nonlinearity != "leaky_relu":
                    raise ValueError(f"unsupported nonlinearity {nonlinearity}")
                if param is None:
                    param = 0.01
                if isinstance(param, bool) or not isinstance(param, (int, float)):
                    raise ValueError(f"negative slope {param!r} is not a number")
                return math.sqrt(2.0 / (1 + param**2))
            """),
    correct(A, "xavier_uniform_", "a1-xavier-uniform-scales-a-unit-uniform",
            "uniform_(-1, 1) then mul_(bound), both in place under no_grad",
            """
            def xavier_uniform_(tensor, gain=1.0, generator=None):
                fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
                bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
                with torch.no_grad():
                    return tensor.uniform_(-1.0, 1.0, generator=generator).mul_(bound)
            """),
    correct(A, "kaiming_uniform_", "a1-kaiming-uniform-copies-scaled-rand",
            "rand from the generator mapped to (-b, b), copied in under no_grad",
            textwrap.dedent("""
            def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                                 generator=None):
                if tensor.numel() == 0:
                    return tensor
                fan = _correct_fan(tensor.shape, mode)
                bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
                noise = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype,
                                   device=tensor.device)
                with torch.no_grad():
                    tensor.copy_((2 * noise - 1) * bound)
                return tensor
            """) + CORRECT_FAN),
    correct(A, "calculate_fan_in_and_fan_out", "a1-fans-with-a-loop",
            "the receptive field multiplied up in a loop, torch.Size accepted",
            """
            def calculate_fan_in_and_fan_out(shape):
                dims = list(shape.shape if isinstance(shape, torch.Tensor) else shape)
                if len(dims) < 2:
                    raise ValueError("fans need a shape of at least 2 dimensions")
                receptive = 1
                for size in dims[2:]:
                    receptive *= size
                return dims[1] * receptive, dims[0] * receptive
            """),
]


ENTRIES = [
    # ------------------------------------------------------------------ wrong: activations
    wrong(A, "sigmoid", "a1-sigmoid-mirrored-form-overflows",
          "e^x / (1 + e^x) gives inf / inf = nan for x >> 0: the stability test fails, and so do "
          "silu and gelu, which call sigmoid",
          """
          def sigmoid(x):
              e = torch.exp(x)
              return e / (1 + e)
          """, also=("silu", "gelu")),
    wrong(A, "tanh", "a1-tanh-textbook-formula-overflows",
          "(e^x - e^-x) / (e^x + e^-x) is inf / inf = nan for |x| large: loses the stability test",
          """
          def tanh(x):
              return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
          """),
    wrong(A, "relu", "a1-relu-clamps-the-input-in-place",
          "x.clamp_(min=0) changes the caller's tensor: loses the does-not-modify test",
          """
          def relu(x):
              return x.clamp_(min=0)
          """),
    wrong(A, "leaky_relu", "a1-leaky-relu-ignores-negative-slope",
          "hard-codes the slope 0.01: right with the default, wrong for every other slope",
          """
          def leaky_relu(x, negative_slope=0.01):
              return torch.where(x > 0, x, 0.01 * x)
          """),
    wrong(A, "elu", "a1-elu-scales-both-branches-by-alpha",
          "alpha * (x for x > 0, e^x - 1 otherwise): right for alpha = 1 only; selu, which calls "
          "elu with alpha = 1.67, breaks too",
          """
          def elu(x, alpha=1.0):
              return alpha * torch.where(x > 0, x, torch.expm1(torch.clamp(x, max=0)))
          """, also=("selu",)),
    wrong(A, "selu", "a1-selu-with-rounded-constants",
          "alpha = 1.6733 and scale = 1.0507: off by ~4e-5 relative, outside the float64 tolerance",
          """
          _SELU_ALPHA = 1.6733
          _SELU_SCALE = 1.0507


          def selu(x):
              negative = _SELU_ALPHA * torch.expm1(torch.clamp(x, max=0))
              return _SELU_SCALE * torch.where(x > 0, x, negative)
          """),
    wrong(A, "gelu", "a1-gelu-ignores-approximate",
          "always the exact erf form: the tanh and sigmoid forms and the ValueError are wrong",
          """
          def gelu(x, approximate="none"):
              return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
          """),
    wrong(A, "silu", "a1-silu-computes-and-returns-float64",
          "upcasts to float64 for accuracy and forgets to cast back: float32 in, float64 out",
          """
          def silu(x):
              x64 = x.double()
              return x64 * sigmoid(x64)
          """),
    # ------------------------------------------------------------------ wrong: derivatives
    wrong(A, "sigmoid_backward", "a1-sigmoid-backward-exp-minus-x-overflows",
          "e^-x / (1 + e^-x)^2 is inf / inf = nan at x = -1e4: loses the stability test",
          """
          def sigmoid_backward(grad_out, x):
              e = torch.exp(-x)
              return grad_out * e / (1 + e) ** 2
          """),
    wrong(A, "tanh_backward", "a1-tanh-backward-forgets-grad-out",
          "returns tanh'(x) instead of grad_out * tanh'(x) (the chain rule is missing)",
          """
          def tanh_backward(grad_out, x):
              t = tanh(x)
              return 1 - t * t
          """),
    wrong(A, "relu_backward", "a1-relu-backward-is-one-at-zero",
          "uses x >= 0, so the derivative at 0 is 1 where autograd gives 0",
          """
          def relu_backward(grad_out, x):
              return torch.where(x >= 0, grad_out, torch.zeros_like(grad_out))
          """),
    wrong(A, "leaky_relu_backward", "a1-leaky-relu-backward-is-one-at-zero",
          "uses x >= 0, so the derivative at 0 is 1 where autograd gives negative_slope",
          """
          def leaky_relu_backward(grad_out, x, negative_slope=0.01):
              return torch.where(x >= 0, grad_out, negative_slope * grad_out)
          """),
    wrong(A, "elu_backward", "a1-elu-backward-is-one-at-zero",
          "uses x >= 0, so the derivative at 0 is 1 where autograd gives alpha",
          """
          def elu_backward(grad_out, x, alpha=1.0):
              negative = grad_out * alpha * torch.exp(torch.clamp(x, max=0))
              return torch.where(x >= 0, grad_out, negative)
          """),
    wrong(A, "gelu_backward", "a1-gelu-backward-drops-the-x-phi-term",
          "returns grad_out * Phi(x), forgetting the product rule's x * phi(x)",
          """
          def gelu_backward(grad_out, x):
              return grad_out * 0.5 * (1 + torch.erf(x / math.sqrt(2.0)))
          """),
    # ------------------------------------------------------------------ wrong: init
    wrong(A, "calculate_fan_in_and_fan_out", "a1-fans-swapped-for-conv-weights",
          "right for linear weights, but takes fan_in from dim 0 for convolutions; kaiming, which "
          "uses the fans of the mode, breaks on conv weights too",
          """
          def calculate_fan_in_and_fan_out(shape):
              dims = tuple(shape)
              if len(dims) < 2:
                  raise ValueError("need at least 2 dimensions")
              if len(dims) == 2:
                  return dims[1], dims[0]
              receptive_field = math.prod(dims[2:])
              return dims[0] * receptive_field, dims[1] * receptive_field
          """, also=("kaiming_uniform_", "kaiming_normal_")),
    wrong(A, "calculate_gain", "a1-gain-of-relu-is-two",
          "returns the variance factor 2 for relu instead of the gain sqrt(2); kaiming with "
          "nonlinearity='relu' inherits the mistake",
          """
          def calculate_gain(nonlinearity, param=None):
              if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"):
                  return 1.0
              if nonlinearity == "tanh":
                  return 5.0 / 3
              if nonlinearity == "relu":
                  return 2.0
              if nonlinearity == "leaky_relu":
                  if param is None:
                      slope = 0.01
                  elif isinstance(param, (int, float)) and not isinstance(param, bool):
                      slope = param
                  else:
                      raise ValueError(f"bad negative slope {param}")
                  return math.sqrt(2.0 / (1 + slope**2))
              if nonlinearity == "selu":
                  return 0.75
              raise ValueError(f"unsupported nonlinearity {nonlinearity}")
          """, also=("kaiming_uniform_", "kaiming_normal_")),
    wrong(A, "xavier_uniform_", "a1-xavier-uniform-bound-sqrt-3-over-fan-sum",
          "bound gain * sqrt(3 / (fan_in + fan_out)): a std sqrt(2) too small",
          """
          def xavier_uniform_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              bound = gain * math.sqrt(3.0 / (fan_in + fan_out))
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound, generator=generator)
          """),
    wrong(A, "xavier_normal_", "a1-xavier-normal-returns-a-new-tensor",
          "returns fresh random numbers instead of filling the given tensor in place",
          """
          def xavier_normal_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              std = gain * math.sqrt(2.0 / (fan_in + fan_out))
              noise = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype,
                                  device=tensor.device)
              return noise * std
          """),
    wrong(A, "xavier_normal_", "a1-xavier-normal-draws-a-uniform-with-the-right-std",
          "right mean and std but a uniform distribution: loses the normality test only",
          """
          def xavier_normal_(tensor, gain=1.0, generator=None):
              fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
              bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
              with torch.no_grad():
                  return tensor.uniform_(-bound, bound, generator=generator)
          """),
    wrong(A, "kaiming_uniform_", "a1-kaiming-uniform-fills-outside-no-grad",
          "fills the weight without torch.no_grad(): an in-place op on a leaf that requires grad "
          "raises RuntimeError",
          textwrap.dedent("""
          def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                               generator=None):
              fan = _correct_fan(tensor.shape, mode)
              bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
              return tensor.uniform_(-bound, bound, generator=generator)
          """) + CORRECT_FAN),
    wrong(A, "kaiming_normal_", "a1-kaiming-normal-without-the-gain",
          "std = 1 / sqrt(fan): the ReLU gain sqrt(2) (and every other gain) is missing",
          """
          def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                              generator=None):
              fan = _correct_fan(tensor.shape, mode)
              with torch.no_grad():
                  return tensor.normal_(0.0, 1.0 / math.sqrt(fan), generator=generator)
          """),
    # ------------------------------------------------------------------ correct alternatives
    correct(A, "sigmoid", "a1-sigmoid-as-exp-of-minus-softplus",
            "sigma(x) = exp(-softplus(-x)) with softplus(z) = logaddexp(0, z): stable, exact",
            """
            def sigmoid(x):
                return torch.exp(-torch.logaddexp(torch.zeros_like(x), -x))
            """),
    correct(A, "relu", "a1-relu-as-x-times-mask",
            "relu(x) = x * (x > 0): the bool mask promotes to x's dtype",
            """
            def relu(x):
                return x * (x > 0)
            """),
    correct(A, "gelu_backward", "a1-gelu-backward-with-erfc",
            "Phi(x) = erfc(-x / sqrt 2) / 2 instead of (1 + erf(x / sqrt 2)) / 2",
            """
            def gelu_backward(grad_out, x):
                cdf = 0.5 * torch.erfc(-x / math.sqrt(2.0))
                pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
                return grad_out * (cdf + x * pdf)
            """),
    correct(A, "kaiming_normal_", "a1-kaiming-normal-copies-a-scaled-randn",
            "draws randn from the generator and copies it in under no_grad instead of normal_",
            """
            def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                                generator=None):
                if 0 in tensor.shape:
                    return tensor
                std = calculate_gain(nonlinearity, a) / math.sqrt(_correct_fan(tensor.shape, mode))
                noise = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype,
                                    device=tensor.device)
                with torch.no_grad():
                    tensor.copy_(noise * std)
                return tensor
            """),
    *ISSUE_13,
]
