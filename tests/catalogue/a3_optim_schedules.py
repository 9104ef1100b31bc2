"""Catalogue of a3_optim_schedules: schedules, optimiser update rules and gradient clipping."""

from __future__ import annotations

import textwrap

from . import correct, wrong

A = "a3_optim_schedules"

# The step_lr cell of the solution also defines _check_step, which the other schedules call.
CHECK_STEP = '''

def _check_step(t):
    if t < 0:
        raise ValueError(f"the step t must be >= 0, got {t}")
'''


def _step_lr(code: str) -> str:
    """A step_lr cell: the given code plus the helper the other schedule cells need."""
    return textwrap.dedent(code) + CHECK_STEP


ENTRIES = [
    # ------------------------------------------------------------------ wrong: schedules
    wrong(A, "step_lr", "a3-step-lr-decays-one-step-early",
          "gamma ** ((t + 1) // step_size): every decay comes one step before StepLR's",
          _step_lr("""
          def step_lr(t, base_lr, step_size, gamma=0.1):
              return base_lr * gamma ** ((t + 1) // step_size)
          """)),
    wrong(A, "multistep_lr", "a3-multistep-lr-decays-one-step-late",
          "counts the milestones strictly before t: every decay comes one step late",
          """
          def multistep_lr(t, base_lr, milestones, gamma=0.1):
              return base_lr * gamma ** sum(1 for m in milestones if m < t)
          """),
    wrong(A, "cosine_lr", "a3-cosine-lr-off-by-one",
          "cos(pi (t + 1) / T): the schedule is one step ahead of CosineAnnealingLR",
          """
          def cosine_lr(t, base_lr, total_steps, min_lr=0.0):
              if total_steps <= 0:
                  raise ValueError("total_steps must be positive")
              if t >= total_steps:
                  return min_lr
              progress = (t + 1) / total_steps
              return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
          """),
    wrong(A, "cosine_lr", "a3-cosine-lr-climbs-again-after-total-steps",
          "the closed form without the clamp: equal to torch up to T, then rises again instead of "
          "staying at min_lr",
          """
          def cosine_lr(t, base_lr, total_steps, min_lr=0.0):
              if total_steps <= 0:
                  raise ValueError("total_steps must be positive")
              return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2
          """),
    wrong(A, "linear_lr", "a3-linear-lr-keeps-falling-after-total-steps",
          "the straight line without the clamp: below min_lr (even negative) after T",
          """
          def linear_lr(t, base_lr, total_steps, min_lr=0.0):
              return base_lr + (min_lr - base_lr) * t / total_steps
          """),
    wrong(A, "inverse_sqrt_lr", "a3-inverse-sqrt-with-s-equal-to-t",
          "s = t instead of t + 1: divides by zero at t = 0 and is off by one step after",
          """
          def inverse_sqrt_lr(t, base_lr, warmup_steps):
              if warmup_steps <= 0:
                  raise ValueError("warmup_steps must be positive")
              return base_lr * min(t / warmup_steps, math.sqrt(warmup_steps / t))
          """),
    wrong(A, "cosine_restarts_lr", "a3-cosine-restarts-ignores-t-mult",
          "every cycle lasts T_0 steps: right for T_mult = 1, wrong for growing periods",
          """
          def cosine_restarts_lr(t, base_lr, T_0, T_mult=1, min_lr=0.0):
              if T_0 <= 0 or T_mult < 1:
                  raise ValueError("bad period")
              t_cur = t % T_0
              return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t_cur / T_0)) / 2
          """),
    wrong(A, "warmup", "a3-warmup-rises-one-step-early",
          "factor start + (1 - start) (t + 1) / w: reaches the full rate one step before LinearLR",
          """
          def warmup(schedule, warmup_steps, start_factor=0.0):
              if warmup_steps < 0 or not 0 <= start_factor <= 1:
                  raise ValueError("bad warmup arguments")

              def warmed_up(t):
                  if t >= warmup_steps:
                      return schedule(t - warmup_steps)
                  factor = start_factor + (1 - start_factor) * (t + 1) / warmup_steps
                  return schedule(0) * factor

              return warmed_up
          """),
    wrong(A, "warmup", "a3-warmup-does-not-shift-the-schedule",
          "after the warm-up runs schedule(t) instead of schedule(t - warmup_steps), skipping its "
          "first warmup_steps values",
          """
          def warmup(schedule, warmup_steps, start_factor=0.0):
              if warmup_steps < 0 or not 0 <= start_factor <= 1:
                  raise ValueError("bad warmup arguments")

              def warmed_up(t):
                  if t >= warmup_steps:
                      return schedule(t)
                  return schedule(0) * (start_factor + (1 - start_factor) * t / warmup_steps)

              return warmed_up
          """),
    wrong(A, "linear_scaling_rule", "a3-linear-scaling-rule-inverted",
          "base_lr * base_batch_size / batch_size: a larger batch gets a smaller rate",
          """
          def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):
              return base_lr * base_batch_size / batch_size
          """),
    # ------------------------------------------------------------------ wrong: optimisers
    wrong(A, "sgd_momentum", "a3-nesterov-written-as-plain-momentum",
          "ignores nesterov=True: the look-ahead term momentum * buffer is missing",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum <= 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w
              if momentum:
                  buffer = state.get("momentum_buffer")
                  buffer = grad.clone() if buffer is None else momentum * buffer + grad
                  state["momentum_buffer"] = buffer
                  grad = buffer
              return w - lr * grad, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-momentum-as-a-moving-average",
          "buffer = momentum * buffer + (1 - momentum) * grad (dampening = momentum): torch's SGD "
          "sums the gradients undamped",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum <= 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w
              if momentum:
                  buffer = state.get("momentum_buffer", torch.zeros_like(w))
                  buffer = momentum * buffer + (1 - momentum) * grad
                  state["momentum_buffer"] = buffer
                  grad = grad + momentum * buffer if nesterov else buffer
              return w - lr * grad, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-momentum-updates-w-in-place",
          "w.sub_(lr * step): right numbers, but the caller's weights are overwritten",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum <= 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w
              if momentum:
                  buffer = state.get("momentum_buffer")
                  buffer = grad.clone() if buffer is None else momentum * buffer + grad
                  state["momentum_buffer"] = buffer
                  grad = grad + momentum * buffer if nesterov else buffer
              return w.sub_(lr * grad), state
          """),
    wrong(A, "adagrad", "a3-adagrad-eps-inside-the-square-root",
          "divides by sqrt(sum + eps): torch adds eps after the square root",
          """
          def adagrad(w, dw, state, lr=1e-2, eps=1e-10):
              if lr < 0 or eps < 0:
                  raise ValueError("bad hyperparameters")
              total = dict(state or {}).get("sum", torch.zeros_like(w)) + dw * dw
              return w - lr * dw / torch.sqrt(total + eps), {"sum": total}
          """),
    wrong(A, "rmsprop", "a3-rmsprop-without-one-minus-alpha",
          "v = alpha v + g^2: the new squared gradient is not weighted by 1 - alpha",
          """
          def rmsprop(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8):
              if lr < 0 or eps < 0 or alpha < 0:
                  raise ValueError("bad hyperparameters")
              previous = dict(state or {}).get("square_avg", torch.zeros_like(w))
              square_avg = alpha * previous + dw * dw
              return w - lr * dw / (square_avg.sqrt() + eps), {"square_avg": square_avg}
          """),
    wrong(A, "adam", "a3-adam-without-bias-correction",
          "uses m and v directly: the first steps are ~3x too large",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              beta1, beta2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      grad = dw + weight_decay * w
              m = beta1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - beta1) * grad
              v = beta2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - beta2) * grad * grad
              return w - lr * m / (v.sqrt() + eps), {"exp_avg": m, "exp_avg_sq": v}
          """),
    wrong(A, "adam", "a3-adamw-as-l2-regularisation",
          "ignores decoupled=True: weight decay always goes through the gradient (Adam + L2), "
          "not AdamW's decoupled shrinking",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              beta1, beta2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              step = state.get("step", 0) + 1
              grad = dw + weight_decay * w
              m = beta1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - beta1) * grad
              v = beta2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - beta2) * grad * grad
              m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
              new_state = {"step": step, "exp_avg": m, "exp_avg_sq": v}
              return w - lr * m_hat / (v_hat.sqrt() + eps), new_state
          """),
    wrong(A, "adam", "a3-adam-updates-the-state-tensors-in-place",
          "exp_avg.mul_(beta1).add_(...) on the tensors of the state it was given, as torch does "
          "inside its optimiser: right numbers, but the rule is no longer pure",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              beta1, beta2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
                  raise ValueError("bad hyperparameters")
              if not state:
                  state = {"step": 0, "exp_avg": torch.zeros_like(w),
                           "exp_avg_sq": torch.zeros_like(w)}
              grad = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      grad = dw + weight_decay * w
              state["step"] += 1
              state["exp_avg"].mul_(beta1).add_((1 - beta1) * grad)
              state["exp_avg_sq"].mul_(beta2).add_((1 - beta2) * grad * grad)
              m_hat = state["exp_avg"] / (1 - beta1 ** state["step"])
              v_hat = state["exp_avg_sq"] / (1 - beta2 ** state["step"])
              return w - lr * m_hat / (v_hat.sqrt() + eps), state
          """),
    # ------------------------------------------------------------------ wrong: clipping
    wrong(A, "clip_grad_norm", "a3-clip-returns-the-norm-after-clipping",
          "scales the gradients right but returns their norm after clipping (at most max_norm)",
          """
          def clip_grad_norm(grads, max_norm, norm_type=2.0):
              def total_norm():
                  if norm_type == math.inf:
                      return max(g.abs().max() for g in grads)
                  return sum((g.abs() ** norm_type).sum() for g in grads) ** (1 / norm_type)

              scale = min(1.0, max_norm / (float(total_norm()) + 1e-6))
              for g in grads:
                  g.mul_(scale)
              return total_norm()
          """),
    wrong(A, "clip_grad_norm", "a3-clip-each-gradient-separately",
          "clips every tensor to max_norm on its own instead of their joint norm",
          """
          def clip_grad_norm(grads, max_norm, norm_type=2.0):
              norms = [torch.linalg.vector_norm(g, norm_type) for g in grads]
              for g, norm in zip(grads, norms):
                  g.mul_(torch.clamp(max_norm / (norm + 1e-6), max=1.0))
              return torch.linalg.vector_norm(torch.stack(norms), norm_type)
          """),
    wrong(A, "clip_grad_norm", "a3-clip-returns-new-tensors",
          "computes scaled copies and leaves the gradients in the list untouched",
          """
          def clip_grad_norm(grads, max_norm, norm_type=2.0):
              norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
              total = torch.linalg.vector_norm(norms, norm_type)
              scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
              grads = [g * scale for g in grads]
              return total
          """),
    wrong(A, "clip_grad_norm", "a3-clip-always-rescales-to-max-norm",
          "multiplies by max_norm / total even when total < max_norm: small gradients grow",
          """
          def clip_grad_norm(grads, max_norm, norm_type=2.0):
              norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
              total = torch.linalg.vector_norm(norms, norm_type)
              for g in grads:
                  g.mul_(max_norm / (total + 1e-6))
              return total
          """),
    # ------------------------------------------------------------------ correct alternatives
    correct(A, "step_lr", "a3-step-lr-by-repeated-multiplication",
            "multiplies by gamma once per completed period in a loop instead of a power",
            _step_lr("""
            def step_lr(t, base_lr, step_size, gamma=0.1):
                _check_step(t)
                if step_size <= 0:
                    raise ValueError("step_size must be positive")
                lr = float(base_lr)
                for _ in range(t // step_size):
                    lr *= gamma
                return lr
            """)),
    correct(A, "warmup", "a3-warmup-as-a-callable-object",
            "returns an instance of a class with __call__ (a Handle in the grader) instead of a "
            "closure",
            """
            class _Warmup:
                def __init__(self, schedule, warmup_steps, start_factor):
                    self.schedule = schedule
                    self.warmup_steps = warmup_steps
                    self.start_factor = start_factor

                def __call__(self, t):
                    if t < 0:
                        raise ValueError("t must be >= 0")
                    if t >= self.warmup_steps:
                        return float(self.schedule(t - self.warmup_steps))
                    rise = (1 - self.start_factor) * t / self.warmup_steps
                    return float(self.schedule(0) * (self.start_factor + rise))


            def warmup(schedule, warmup_steps, start_factor=0.0):
                if warmup_steps < 0 or not 0.0 <= start_factor <= 1.0:
                    raise ValueError("bad warmup arguments")
                return _Warmup(schedule, warmup_steps, start_factor)
            """),
    correct(A, "sgd_momentum", "a3-sgd-momentum-in-velocity-form",
            "Sutskever's form v = mu v - lr g, w + v (and w - lr g + mu v for Nesterov), the "
            "same steps as torch's for a constant learning rate",
            """
            def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
                if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and momentum <= 0):
                    raise ValueError("bad hyperparameters")
                grad = dw + weight_decay * w
                if momentum == 0:
                    return w - lr * grad, {}
                velocity = state.get("velocity") if state else None
                velocity = -lr * grad if velocity is None else momentum * velocity - lr * grad
                step = momentum * velocity - lr * grad if nesterov else velocity
                return w + step, {"velocity": velocity}
            """),
    correct(A, "adam", "a3-adam-with-a-tuple-state",
            "keeps (step, m, v) as a tuple instead of a dict",
            """
            def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     decoupled=False):
                beta1, beta2 = betas
                if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
                    raise ValueError("bad hyperparameters")
                step, m, v = state if state else (0, torch.zeros_like(w), torch.zeros_like(w))
                grad = dw
                if decoupled:
                    w = w * (1 - lr * weight_decay)
                else:
                    grad = dw + weight_decay * w
                step += 1
                m = beta1 * m + (1 - beta1) * grad
                v = beta2 * v + (1 - beta2) * grad * grad
                update = (m / (1 - beta1**step)) / ((v / (1 - beta2**step)).sqrt() + eps)
                return w - lr * update, (step, m, v)
            """),
    correct(A, "clip_grad_norm", "a3-clip-by-one-flattened-vector",
            "concatenates every gradient into one vector and takes its norm",
            """
            def clip_grad_norm(grads, max_norm, norm_type=2.0):
                flat = torch.cat([g.reshape(-1) for g in grads])
                if norm_type == math.inf:
                    total = flat.abs().max()
                else:
                    total = flat.abs().pow(norm_type).sum().pow(1.0 / norm_type)
                scale = min(1.0, max_norm / (float(total) + 1e-6))
                for g in grads:
                    g.mul_(scale)
                return total
            """),
]
