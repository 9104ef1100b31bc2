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
    wrong(A, "sgd_momentum", "a3-sgd-momentum-in-velocity-form",
            "Sutskever's form v = mu v - lr g, w + v (and w - lr g + mu v for Nesterov): the "
            "same steps as torch's for a constant learning rate only (issue 13: a schedule "
            "changes lr between steps), and no momentum_buffer in the state",
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
    wrong(A, "adam", "a3-adam-with-a-tuple-state",
            "keeps (step, m, v) as a tuple: right steps, but the notebook's state is a dict with "
            "torch's keys (loses the state-contents test only)",
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
    wrong(A, "clip_grad_norm", "a3-clip-by-one-flattened-vector",
            "concatenates every gradient into one vector and takes its norm: right for a "
            "non-empty list, but torch.cat([]) raises where the notebook says an empty list has "
            "total norm 0",
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

# Issue 13: conventions that widely used code follows, each pinned on its own part.
ENTRIES += [
    # ------------------------------------------------------------------ wrong: schedules
    wrong(A, "multistep_lr", "a3-multistep-lr-bisect-assumes-sorted-milestones",
          "bisect_right(milestones, t) counts right only for a sorted list: unsorted milestones "
          "give the wrong number of decays",
          """
          import bisect


          def multistep_lr(t, base_lr, milestones, gamma=0.1):
              _check_step(t)
              return base_lr * gamma ** bisect.bisect_right(list(milestones), t)
          """),
    wrong(A, "multistep_lr", "a3-multistep-lr-set-of-milestones",
          "set(milestones): a milestone listed twice decays once, MultiStepLR decays twice",
          """
          def multistep_lr(t, base_lr, milestones, gamma=0.1):
              _check_step(t)
              return base_lr * gamma ** sum(1 for m in set(milestones) if m <= t)
          """),
    wrong(A, "step_lr", "a3-step-lr-no-floor",
          "gamma ** (t / step_size): a smooth exponential, not a staircase",
          _step_lr("""
          def step_lr(t, base_lr, step_size, gamma=0.1):
              _check_step(t)
              if step_size <= 0:
                  raise ValueError("step_size must be positive")
              return base_lr * gamma ** (t / step_size)
          """)),
    wrong(A, "cosine_lr", "a3-cosine-lr-period-t-minus-one",
          "cos(pi t / (T - 1)): reaches min_lr one step early (T off by one)",
          """
          def cosine_lr(t, base_lr, total_steps, min_lr=0.0):
              if total_steps <= 1:
                  raise ValueError("total_steps must be positive")
              if t >= total_steps - 1:
                  return min_lr
              cosine = math.cos(math.pi * t / (total_steps - 1))
              return min_lr + (base_lr - min_lr) * (1 + cosine) / 2
          """),
    wrong(A, "inverse_sqrt_lr", "a3-inverse-sqrt-lr-s-equals-t",
          "s = t instead of t + 1: divides by zero at t = 0 and is one step behind",
          """
          def inverse_sqrt_lr(t, base_lr, warmup_steps):
              if warmup_steps <= 0:
                  raise ValueError("warmup_steps must be positive")
              return base_lr * min(t / warmup_steps, math.sqrt(warmup_steps / t))
          """),
    wrong(A, "warmup", "a3-warmup-from-zero-ignores-start-factor",
          "rises from 0 whatever start_factor says",
          """
          def warmup(schedule, warmup_steps, start_factor=0.0):
              if warmup_steps < 0 or not 0.0 <= start_factor <= 1.0:
                  raise ValueError("bad warmup")

              def warmed(t):
                  if t < warmup_steps:
                      return schedule(0) * t / warmup_steps
                  return schedule(t - warmup_steps)

              return warmed
          """),
    wrong(A, "warmup", "a3-warmup-divides-by-zero-steps",
          "t / warmup_steps evaluated before the branch: warmup_steps = 0 raises ZeroDivisionError",
          """
          def warmup(schedule, warmup_steps, start_factor=0.0):
              if warmup_steps < 0 or not 0.0 <= start_factor <= 1.0:
                  raise ValueError("bad warmup")

              def warmed(t):
                  factor = start_factor + (1 - start_factor) * t / warmup_steps
                  if t < warmup_steps:
                      return schedule(0) * factor
                  return schedule(t - warmup_steps)

              return warmed
          """),
    # ------------------------------------------------------------------ wrong: optimisers
    wrong(A, "sgd_momentum", "a3-sgd-lr-scaled-velocity",
          "v = mu v + lr g, w -= v (the CS231n form): equal to torch at a constant lr only, "
          "and the stored buffer is lr times torch's",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w if weight_decay else dw
              if momentum == 0:
                  return w - lr * grad, state
              v = momentum * state.get("momentum_buffer", torch.zeros_like(w)) + lr * grad
              state["momentum_buffer"] = v
              if nesterov:
                  return w - (lr * grad + momentum * v), state
              return w - v, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-dampened-buffer",
          "b = mu b + (1 - mu) g (an exponential average): torch adds the whole gradient",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w if weight_decay else dw
              if momentum == 0:
                  return w - lr * grad, state
              previous = state.get("momentum_buffer")
              b = grad.clone() if previous is None else momentum * previous + (1 - momentum) * grad
              state["momentum_buffer"] = b
              step = grad + momentum * b if nesterov else b
              return w - lr * step, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-in-place-buffer-on-the-default-path",
          "buf.mul_(mu).add_(g) on the buffer it received: right numbers, the caller's state "
          "tensor is overwritten (torch's own in-place style)",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w if weight_decay else dw
              if momentum == 0:
                  return w - lr * grad, state
              buf = state.get("momentum_buffer")
              if buf is None:
                  buf = grad.clone()
              else:
                  buf.mul_(momentum).add_(grad)
              state["momentum_buffer"] = buf
              step = grad + momentum * buf if nesterov else buf
              return w - lr * step, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-in-place-weights",
          "w.sub_(lr * g) and returns w: the caller's weights change",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w if weight_decay else dw
              if momentum != 0:
                  previous = state.get("momentum_buffer")
                  b = grad.clone() if previous is None else momentum * previous + grad
                  state["momentum_buffer"] = b
                  grad = grad + momentum * b if nesterov else b
              with torch.no_grad():
                  w.sub_(lr * grad)
              return w, state
          """),
    wrong(A, "sgd_momentum", "a3-sgd-buffer-kept-at-momentum-zero",
          "stores b = g even with momentum 0: right weights, but the state is not empty",
          """
          def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
              if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              grad = dw + weight_decay * w if weight_decay else dw
              previous = state.get("momentum_buffer")
              b = grad.clone() if previous is None else momentum * previous + grad
              state["momentum_buffer"] = b
              step = grad + momentum * b if nesterov else b
              return w - lr * step, state
          """),
    wrong(A, "adagrad", "a3-adagrad-eps-inside-the-root",
          "sqrt(s + eps) instead of sqrt(s) + eps",
          """
          def adagrad(w, dw, state, lr=1e-2, eps=1e-10):
              if lr < 0 or eps < 0:
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              s = state.get("sum", torch.zeros_like(w)) + dw * dw
              state["sum"] = s
              state["step"] = state.get("step", 0) + 1
              return w - lr * dw / (s + eps).sqrt(), state
          """),
    wrong(A, "adagrad", "a3-adagrad-in-place-sum",
          "s.addcmul_(g, g) on the sum it received: right numbers, the caller's state changes",
          """
          def adagrad(w, dw, state, lr=1e-2, eps=1e-10):
              if lr < 0 or eps < 0:
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              s = state.get("sum")
              if s is None:
                  s = torch.zeros_like(w)
              s.addcmul_(dw, dw)
              state["sum"] = s
              state["step"] = state.get("step", 0) + 1
              return w - lr * dw / (s.sqrt() + eps), state
          """),
    wrong(A, "adagrad", "a3-adagrad-no-step-count",
          "right updates but no state['step']: the state lacks a key the notebook defines",
          """
          def adagrad(w, dw, state, lr=1e-2, eps=1e-10):
              if lr < 0 or eps < 0:
                  raise ValueError("bad hyperparameters")
              s = (state or {}).get("sum", torch.zeros_like(w)) + dw * dw
              return w - lr * dw / (s.sqrt() + eps), {"sum": s}
          """),
    wrong(A, "rmsprop", "a3-rmsprop-eps-inside-the-root",
          "sqrt(v + eps) (Hinton's slides, Keras): torch adds eps outside the root",
          """
          def rmsprop(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8):
              if lr < 0 or eps < 0 or alpha < 0:
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              v = alpha * state.get("square_avg", torch.zeros_like(w)) + (1 - alpha) * dw * dw
              state["square_avg"] = v
              state["step"] = state.get("step", 0) + 1
              return w - lr * dw / (v + eps).sqrt(), state
          """),
    wrong(A, "rmsprop", "a3-rmsprop-alpha-weights-the-new-gradient",
          "v = (1 - alpha) v + alpha g^2: the roles of the decay and the new term swapped",
          """
          def rmsprop(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8):
              if lr < 0 or eps < 0 or alpha < 0:
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              v = (1 - alpha) * state.get("square_avg", torch.zeros_like(w)) + alpha * dw * dw
              state["square_avg"] = v
              state["step"] = state.get("step", 0) + 1
              return w - lr * dw / (v.sqrt() + eps), state
          """),
    wrong(A, "adam", "a3-adam-no-bias-correction",
          "m / (sqrt(v) + eps) without dividing by 1 - beta^t (the paper's Algorithm without "
          "its correction)",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              b1, b2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              g = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      g = dw + weight_decay * w
              m = b1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - b1) * g
              v = b2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * g * g
              state.update(step=state.get("step", 0) + 1, exp_avg=m, exp_avg_sq=v)
              return w - lr * m / (v.sqrt() + eps), state
          """),
    wrong(A, "adam", "a3-adam-eps-inside-the-root",
          "sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              b1, b2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              t = state.get("step", 0) + 1
              g = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      g = dw + weight_decay * w
              m = b1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - b1) * g
              v = b2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * g * g
              state.update(step=t, exp_avg=m, exp_avg_sq=v)
              return w - lr * (m / (1 - b1**t)) / (v / (1 - b2**t) + eps).sqrt(), state
          """),
    wrong(A, "adam", "a3-adamw-decay-without-lr",
          "w * (1 - weight_decay): the decoupled decay not multiplied by the learning rate",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              b1, b2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              t = state.get("step", 0) + 1
              g = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - weight_decay)
                  else:
                      g = dw + weight_decay * w
              m = b1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - b1) * g
              v = b2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * g * g
              state.update(step=t, exp_avg=m, exp_avg_sq=v)
              return w - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps), state
          """),
    wrong(A, "adam", "a3-adam-in-place-moments",
          "exp_avg.mul_(b1).add_(...) on the moments it received: right numbers, the caller's "
          "state tensors are overwritten",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              b1, b2 = betas
              if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                  raise ValueError("bad hyperparameters")
              state = dict(state or {})
              t = state.get("step", 0) + 1
              g = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      g = dw + weight_decay * w
              m = state.get("exp_avg")
              v = state.get("exp_avg_sq")
              if m is None:
                  m, v = torch.zeros_like(w), torch.zeros_like(w)
              m.mul_(b1).add_((1 - b1) * g)
              v.mul_(b2).add_((1 - b2) * g * g)
              state.update(step=t, exp_avg=m, exp_avg_sq=v)
              return w - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps), state
          """),
    # ------------------------------------------------------------------ wrong: from mutants
    wrong(A, "adam", "a3-adam-rejects-a-zero-learning-rate",
          "raises ValueError for lr <= 0 (\"the learning rate must be positive\"), but lr = 0 "
          "is valid in torch and is what warmup's default start_factor gives at t = 0",
          """
          def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False):
              b1, b2 = betas
              if lr <= 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                  raise ValueError("the learning rate must be positive")
              state = dict(state or {})
              t = state.get("step", 0) + 1
              g = dw
              if weight_decay:
                  if decoupled:
                      w = w * (1 - lr * weight_decay)
                  else:
                      g = dw + weight_decay * w
              m = b1 * state.get("exp_avg", torch.zeros_like(w)) + (1 - b1) * g
              v = b2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * g * g
              state.update(step=t, exp_avg=m, exp_avg_sq=v)
              return w - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps), state
          """),
    wrong(A, "clip_grad_norm", "a3-clip-subtracts-the-epsilon",
          "max_norm / (total - 1e-6): the same as torch for large norms, but below 1e-6 the "
          "factor turns negative and flips the gradients",
          """
          def clip_grad_norm(grads, max_norm, norm_type=2.0):
              grads = [grads] if isinstance(grads, torch.Tensor) else list(grads)
              if not grads:
                  return torch.tensor(0.0)
              norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
              total = torch.linalg.vector_norm(norms, norm_type)
              scale = torch.clamp(max_norm / (total - 1e-6), max=1.0)
              with torch.no_grad():
                  for g in grads:
                      g.mul_(scale)
              return total
          """),
    # ------------------------------------------------------------------ correct
    correct(A, "sgd_momentum", "a3-ok-sgd-rebinds-keys-of-the-received-dict",
            "stores NEW tensors under the keys of the dict it received and returns that dict: "
            "no tensor is written in place, so purity holds (issue 13's false accusation)",
            """
            def sgd_momentum(w, dw, state, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
                if lr < 0 or momentum < 0 or (nesterov and momentum == 0):
                    raise ValueError("bad hyperparameters")
                if state is None:
                    state = {}
                grad = dw + weight_decay * w if weight_decay else dw
                if momentum == 0:
                    return w - lr * grad, state
                previous = state.get("momentum_buffer")
                state["momentum_buffer"] = grad.clone() if previous is None \
                    else momentum * previous + grad
                b = state["momentum_buffer"]
                return w - lr * (grad + momentum * b if nesterov else b), state
            """),
    correct(A, "adam", "a3-ok-adam-tensor-step-and-decay-after",
            "keeps the step as a tensor (as torch does) and applies AdamW's decay from the old w "
            "after the Adam step (the same numbers)",
            """
            def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     decoupled=False):
                b1, b2 = betas
                if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
                    raise ValueError("bad hyperparameters")
                state = state or {}
                t = int(state.get("step", torch.tensor(0.0))) + 1
                g = dw + weight_decay * w if weight_decay and not decoupled else dw
                m = torch.lerp(state.get("exp_avg", torch.zeros_like(w)), g, 1 - b1)
                v = b2 * state.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * g.square()
                denom = (v / (1 - b2**t)).sqrt() + eps
                w_next = w - lr / (1 - b1**t) * m / denom
                if weight_decay and decoupled:
                    w_next = w_next - lr * weight_decay * w
                return w_next, {"step": torch.tensor(float(t)), "exp_avg": m, "exp_avg_sq": v}
            """),
    correct(A, "cosine_lr", "a3-ok-cosine-lr-closed-form-clamped-at-t",
            "the closed form at min(t, T): CosineAnnealingLR's values up to T, min_lr after",
            """
            def cosine_lr(t, base_lr, total_steps, min_lr=0.0):
                if total_steps <= 0:
                    raise ValueError("total_steps must be positive")
                _check_step(t)
                progress = min(t, total_steps) / total_steps
                return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
            """),
    correct(A, "multistep_lr", "a3-ok-multistep-lr-counter",
            "collections.Counter of the milestones, as MultiStepLR: unsorted and repeated ones "
            "are counted right",
            """
            from collections import Counter


            def multistep_lr(t, base_lr, milestones, gamma=0.1):
                _check_step(t)
                counts = Counter(milestones)
                return base_lr * gamma ** sum(n for m, n in counts.items() if m <= t)
            """),
    correct(A, "adagrad", "a3-ok-adagrad-new-dict-and-addcmul",
            "torch.addcmul out of place and a state dict built from scratch",
            """
            def adagrad(w, dw, state, lr=1e-2, eps=1e-10):
                if lr < 0 or eps < 0:
                    raise ValueError("bad hyperparameters")
                state = state or {}
                s = torch.addcmul(state.get("sum", torch.zeros_like(w)), dw, dw)
                new = {"sum": s, "step": state.get("step", 0) + 1}
                return torch.addcdiv(w, dw, s.sqrt().add(eps), value=-lr), new
            """),
    correct(A, "rmsprop", "a3-ok-rmsprop-lerp",
            "the leaky average as torch.lerp(v, g^2, 1 - alpha)",
            """
            def rmsprop(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8):
                if lr < 0 or eps < 0 or alpha < 0:
                    raise ValueError("bad hyperparameters")
                state = dict(state or {})
                v = torch.lerp(state.get("square_avg", torch.zeros_like(w)), dw * dw, 1 - alpha)
                state["square_avg"] = v
                state["step"] = state.get("step", 0) + 1
                return w - lr * dw / (torch.sqrt(v) + eps), state
            """),
    correct(A, "clip_grad_norm", "a3-ok-clip-without-torchs-epsilon",
            "min(1, max_norm / total) without torch's 1e-6 (guarded at total 0): a factor at "
            "most 1e-6 / total relative above torch's, which the suite accepts",
            """
            def clip_grad_norm(grads, max_norm, norm_type=2.0):
                grads = [grads] if isinstance(grads, torch.Tensor) else list(grads)
                if not grads:
                    return torch.tensor(0.0)
                norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
                total = torch.linalg.vector_norm(norms, norm_type)
                if float(total) > max_norm:
                    with torch.no_grad():
                        for g in grads:
                            g.mul_(max_norm / total)
                return total
            """),
    correct(A, "clip_grad_norm", "a3-ok-clip-flattened-concatenation",
            "the total norm of the concatenated flattened gradients (the same p-norm)",
            """
            def clip_grad_norm(grads, max_norm, norm_type=2.0):
                grads = [grads] if isinstance(grads, torch.Tensor) else list(grads)
                if not grads:
                    return torch.tensor(0.0)
                flat = torch.cat([g.detach().reshape(-1).to(grads[0].device) for g in grads])
                total = torch.linalg.vector_norm(flat, float(norm_type))
                scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
                with torch.no_grad():
                    for g in grads:
                        g.mul_(scale.to(g.device))
                return total
            """),
]
