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
    correct(A, "tanh", "a1-tanh-as-two-sigmoid-of-two-x-minus-one",
            "tanh(x) = 2 sigma(2x) - 1 through the student's own stable sigmoid",
            """
            def tanh(x):
                return 2 * sigmoid(2 * x) - 1
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
]
