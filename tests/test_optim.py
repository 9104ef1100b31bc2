"""nntrain.optim against torch.optim in float64, and the 2-D test problems."""

from __future__ import annotations

import math

import pytest
import torch

from nntrain import optim as O

STEPS = 25
# the learning rate changes between calls: a warmup, a jump, a decay
LRS = [0.05 * (k + 1) / 5 if k < 5 else (0.08 if k < 15 else 0.02) for k in range(STEPS)]

# (our class, torch class, functional rule, hyperparameters shared by all three)
CASES = [
    ("sgd", O.SGD, torch.optim.SGD, None, {"momentum": 0.0}),
    ("momentum", O.SGD, torch.optim.SGD, O.sgd_momentum, {"momentum": 0.9}),
    ("nesterov", O.SGD, torch.optim.SGD, O.sgd_momentum, {"momentum": 0.9, "nesterov": True}),
    ("momentum_wd", O.SGD, torch.optim.SGD, O.sgd_momentum,
     {"momentum": 0.8, "weight_decay": 0.05}),
    ("nesterov_wd", O.SGD, torch.optim.SGD, O.sgd_momentum,
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("dampening", O.SGD, torch.optim.SGD, None, {"momentum": 0.9, "dampening": 0.3}),
    ("adagrad", O.Adagrad, torch.optim.Adagrad, O.adagrad, {}),
    ("adagrad_eps", O.Adagrad, torch.optim.Adagrad, O.adagrad, {"eps": 1e-3}),
    ("adagrad_wd_decay", O.Adagrad, torch.optim.Adagrad, None,
     {"weight_decay": 0.1, "lr_decay": 0.01}),
    ("rmsprop", O.RMSprop, torch.optim.RMSprop, O.rmsprop, {}),
    ("rmsprop_alpha", O.RMSprop, torch.optim.RMSprop, O.rmsprop, {"alpha": 0.9, "eps": 1e-6}),
    ("rmsprop_momentum_centered", O.RMSprop, torch.optim.RMSprop, None,
     {"momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("adam", O.Adam, torch.optim.Adam, O.adam, {}),
    ("adam_betas", O.Adam, torch.optim.Adam, O.adam, {"betas": (0.8, 0.95), "eps": 1e-6}),
    ("adam_l2", O.Adam, torch.optim.Adam, O.adam, {"weight_decay": 0.1}),
    ("adam_amsgrad", O.Adam, torch.optim.Adam, None, {"amsgrad": True}),
    ("adamw", O.AdamW, torch.optim.AdamW, None, {"weight_decay": 0.1}),
    ("adamw_default_decay", O.AdamW, torch.optim.AdamW, None, {}),
]


def _problem(device, seed=0):
    """Two parameters of different shapes and a gradient that depends on w."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (5,)]
    params = [torch.randn(s, generator=g, dtype=torch.float64).to(device) for s in shapes]
    noise = [[torch.randn(s, generator=g, dtype=torch.float64).to(device) for s in shapes]
             for _ in range(STEPS)]

    def grad(k, i, w):  # gradient of 0.15 w^2 + sin(w) + a fresh random linear term
        return 0.3 * w + torch.cos(w) + noise[k][i]

    return params, grad


def _run_torch(torch_cls, hyper, device):
    params, grad = _problem(device)
    ps = [p.clone().requires_grad_(True) for p in params]
    opt = torch_cls(ps, lr=LRS[0], foreach=False, **hyper)
    for k in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[k]
        for i, p in enumerate(ps):
            p.grad = grad(k, i, p.detach())
        opt.step()
    return [p.detach() for p in ps]


def _assert_close(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype == torch.float64 and a.device == b.device
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "ours_cls", "torch_cls", "rule", "hyper"), CASES,
                         ids=[c[0] for c in CASES])
def test_optimizer_class_matches_torch(name, ours_cls, torch_cls, rule, hyper, device):
    theirs = _run_torch(torch_cls, hyper, device)
    params, grad = _problem(device)
    ps = [torch.nn.Parameter(p.clone()) for p in params]
    opt = ours_cls(ps, lr=LRS[0], **hyper)
    for k in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[k]
        for i, p in enumerate(ps):
            p.grad = grad(k, i, p.detach())
        opt.step()
    _assert_close([p.detach() for p in ps], theirs)
    # the trajectory really moved (the comparison is not between two unchanged tensors)
    assert not torch.allclose(ps[0].detach(), params[0])


def _functional_hyper(name, hyper):
    if name.startswith("adamw"):
        return {"decoupled": True, "weight_decay": hyper.get("weight_decay", 1e-2)}
    return hyper


@pytest.mark.parametrize(("name", "ours_cls", "torch_cls", "rule", "hyper"),
                         [c for c in CASES if c[3] is not None] + [
                             ("adamw", None, torch.optim.AdamW, O.adam, {"weight_decay": 0.1}),
                         ],
                         ids=[c[0] for c in CASES if c[3] is not None] + ["adamw"])
def test_functional_rule_matches_torch(name, ours_cls, torch_cls, rule, hyper, device):
    theirs = _run_torch(torch_cls, hyper, device)
    ws, grad = _problem(device)
    states = [{} for _ in ws]
    for k in range(STEPS):
        for i in range(len(ws)):
            dw = grad(k, i, ws[i])
            w_before, dw_before = ws[i].clone(), dw.clone()
            ws[i], states[i] = rule(ws[i], dw, states[i], lr=LRS[k],
                                    **_functional_hyper(name, hyper))
            # never modifies its inputs
            assert torch.equal(dw, dw_before)
            assert ws[i] is not w_before
    _assert_close(ws, theirs)


def test_rules_leave_inputs_and_state_untouched_and_accept_none():
    w = torch.tensor([1.0, -2.0], dtype=torch.float64)
    dw = torch.tensor([0.5, 0.25], dtype=torch.float64)
    for rule, kw in [(O.sgd_momentum, {"lr": 0.1}), (O.adagrad, {}), (O.rmsprop, {}),
                     (O.adam, {"weight_decay": 0.1}), (O.adam, {"weight_decay": 0.1,
                                                                "decoupled": True})]:
        _, state = rule(w, dw, None, **kw)
        snapshot = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
        w2, state2 = rule(w, dw, state, **kw)
        assert torch.equal(w, torch.tensor([1.0, -2.0], dtype=torch.float64))
        assert torch.equal(dw, torch.tensor([0.5, 0.25], dtype=torch.float64))
        for k, v in snapshot.items():
            assert torch.equal(state[k], v) if torch.is_tensor(v) else state[k] == v
        assert state2 is not state and w2.shape == w.shape


def test_adam_first_step_and_bias_correction():
    """With bias correction the first step has size ~lr in every coordinate; without, it is
    scaled by (1 - beta1) / sqrt(1 - beta2), about 3.16x larger for the defaults."""
    w = torch.zeros(3, dtype=torch.float64)
    dw = torch.tensor([1e-3, 1.0, -50.0], dtype=torch.float64)
    w1, state = O.adam(w, dw, {}, lr=0.01, eps=0.0)
    torch.testing.assert_close(w1, -0.01 * dw.sign(), rtol=1e-12, atol=0)
    assert state["step"] == 1
    w1_raw, _ = O.adam(w, dw, {}, lr=0.01, eps=0.0, bias_correction=False)
    torch.testing.assert_close(w1_raw, -0.01 * 0.1 / math.sqrt(0.001) * dw.sign(), rtol=1e-12,
                               atol=0)


def test_sgd_with_zero_momentum_is_plain_gradient_descent():
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    dw = torch.tensor([0.5, -1.0], dtype=torch.float64)
    state = {}
    for _ in range(3):
        w_next, state = O.sgd_momentum(w, dw, state, lr=0.1, momentum=0.0)
        torch.testing.assert_close(w_next, w - 0.1 * dw)
        w = w_next
    with pytest.raises(ValueError):
        O.sgd_momentum(w, dw, {}, lr=0.1, momentum=0.0, nesterov=True)


def test_optimizer_supports_closure_param_groups_and_state_dict():
    a = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    opt = O.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a**2).sum() + (b**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(14.0)
    torch.testing.assert_close(a.detach(), torch.tensor([0.9, 1.9], dtype=torch.float64))
    torch.testing.assert_close(b.detach(), torch.tensor([2.5], dtype=torch.float64))
    sd = opt.state_dict()
    opt2 = O.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[a]["step"] == 1
    assert O.make_optimizer("nesterov", [a], lr=0.2).param_groups[0]["nesterov"] is True
    with pytest.raises(ValueError):
        O.make_optimizer("lbfgs", [a])


# ----------------------------------------------------------------------------- Newton, 2-D


def test_newton_step_solves_a_quadratic_in_one_step(device):
    g = torch.Generator().manual_seed(0)
    m = torch.randn(5, 5, generator=g, dtype=torch.float64)
    a = (m @ m.T + 0.5 * torch.eye(5, dtype=torch.float64)).to(device)
    b = torch.randn(5, generator=g, dtype=torch.float64).to(device)

    def f(w):
        return 0.5 * w @ a @ w - b @ w

    w1 = O.newton_step(f, torch.randn(5, generator=g, dtype=torch.float64).to(device))
    torch.testing.assert_close(w1, torch.linalg.solve(a, b), rtol=1e-10, atol=1e-10)
    # damping lambda gives w - (H + lambda I)^{-1} grad
    w0 = torch.ones(5, dtype=torch.float64, device=device)
    eye = torch.eye(5, dtype=torch.float64, device=device)
    expected = w0 - torch.linalg.solve(a + 2.0 * eye, a @ w0 - b)
    torch.testing.assert_close(O.newton_step(f, w0, damping=2.0), expected)


def test_newton_step_on_rosenbrock_uses_the_exact_hessian():
    x, y = -1.2, 1.0
    grad = torch.tensor([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)],
                        dtype=torch.float64)
    hess = torch.tensor([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]],
                        dtype=torch.float64)
    w0 = torch.tensor([x, y], dtype=torch.float64)
    torch.testing.assert_close(O.newton_step(O.rosenbrock, w0), w0 - torch.linalg.solve(hess, grad))


@pytest.mark.parametrize("fn", [O.ill_conditioned_quadratic(30.0, angle=0.4), O.rosenbrock,
                                O.saddle], ids=lambda f: f.name)
def test_test_functions_have_zero_gradient_at_their_minimum(fn):
    w = torch.tensor(fn.minimum, dtype=torch.float64, requires_grad=True)
    fn(w).backward()
    assert torch.allclose(w.grad, torch.zeros(2, dtype=torch.float64), atol=1e-12)
    # it is a minimum: nearby values are larger; and f works on batches of points
    grid = torch.tensor(fn.minimum, dtype=torch.float64) + 0.05 * torch.randn(
        7, 9, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    values = fn(grid)
    assert values.shape == (7, 9)
    assert torch.all(values > fn(torch.tensor(fn.minimum, dtype=torch.float64)))


@pytest.mark.parametrize("fn", [O.ill_conditioned_quadratic(30.0, angle=0.4), O.rosenbrock,
                                O.saddle], ids=lambda f: f.name)
def test_analytic_gradients_match_autograd(fn):
    pts = torch.randn(6, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = torch.func.vmap(torch.func.grad(fn))(pts)
    torch.testing.assert_close(fn.grad(pts), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(O.OPTIMIZERS))
def test_run_trajectory_rule_path_equals_the_optimizer_class(name):
    ours = O.run_trajectory(O.rosenbrock, name, (-1.0, 1.5), 40, lr=1e-3)
    via_class = O.run_trajectory(O.rosenbrock,
                                 lambda ps: O.make_optimizer(name, ps, lr=1e-3), (-1.0, 1.5), 40)
    torch.testing.assert_close(ours, via_class, rtol=1e-12, atol=1e-14)
    assert not torch.allclose(ours[-1], ours[0])
    # a plain callable (no analytic gradient) goes through autograd and gives the same path
    plain = O.run_trajectory(lambda xy: O.rosenbrock(xy), name, (-1.0, 1.5), 40, lr=1e-3)
    torch.testing.assert_close(plain, ours, rtol=1e-12, atol=1e-14)


def test_quadratic_condition_number_and_saddle_point():
    q = O.ill_conditioned_quadratic(condition_number=50.0, angle=0.3, scale=2.0)
    assert q.condition_number == pytest.approx(50.0)
    assert torch.linalg.eigvalsh(q.hessian).tolist() == pytest.approx([2.0 / 50, 2.0])
    h = torch.func.jacrev(torch.func.grad(O.saddle))(torch.zeros(2, dtype=torch.float64))
    assert torch.linalg.eigvalsh(h).tolist() == pytest.approx([-1.0, 2.0])  # a saddle
    assert O.saddle(torch.tensor([0.0, -1.0])).item() == pytest.approx(-0.25)


def test_run_trajectory_gradient_descent_on_a_quadratic_is_exact():
    q = O.ill_conditioned_quadratic(condition_number=10.0, angle=0.5)
    lr, steps = 0.3, 20
    path = O.run_trajectory(q, "sgd", (2.0, -1.0), steps, lr=lr)
    assert path.shape == (steps + 1, 2) and path.dtype == torch.float64
    step = torch.eye(2, dtype=torch.float64) - lr * q.hessian
    w = torch.tensor([2.0, -1.0], dtype=torch.float64)
    for k in range(steps + 1):
        torch.testing.assert_close(path[k], w, rtol=1e-12, atol=1e-14)
        w = step @ w
    # Newton reaches the minimum of a quadratic in one step
    newton = O.run_trajectory(q, "newton", (2.0, -1.0), 3)
    torch.testing.assert_close(newton[1:], torch.zeros(3, 2, dtype=torch.float64))


def test_run_trajectory_noise_divergence_and_factory():
    q = O.ill_conditioned_quadratic(10.0)
    noisy = O.run_trajectory(q, "momentum", (3.0, 1.0), 30, noise=0.5,
                             generator=torch.Generator().manual_seed(1), lr=0.1)
    again = O.run_trajectory(q, "momentum", (3.0, 1.0), 30, noise=0.5,
                             generator=torch.Generator().manual_seed(1), lr=0.1)
    clean = O.run_trajectory(q, "momentum", (3.0, 1.0), 30, lr=0.1)
    assert torch.equal(noisy, again) and not torch.allclose(noisy, clean)
    # lr above 2 / lambda_max = 2 diverges: the path turns into NaN instead of inf
    blown = O.run_trajectory(q, "sgd", (3.0, 1.0), 2000, lr=2.5)
    assert torch.isnan(blown[-1]).all() and torch.isfinite(blown[:10]).all()
    via_factory = O.run_trajectory(q, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                                   (3.0, 1.0), 30)
    torch.testing.assert_close(via_factory, clean, rtol=1e-12, atol=1e-14)
