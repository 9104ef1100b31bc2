"""nntrain.tuning: exact properties of the search helpers and sanity checks."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from nntrain import tuning as T


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- sampling


def test_log_uniform_bounds_and_decades():
    x = T.log_uniform(1e-5, 1e-1, 20000, generator=_gen())
    assert x.shape == (20000,) and x.dtype == torch.float64
    assert x.min() >= 1e-5 and x.max() <= 1e-1
    # four decades, each gets a quarter of the samples (binomial sd ~ 0.3%: 3% never fails)
    counts = torch.histc(torch.log10(x), bins=4, min=-5, max=-1)
    assert torch.allclose(counts / 20000, torch.full((4,), 0.25, dtype=counts.dtype), atol=0.03)
    # the same seed gives the same draws; low == high gives that value
    assert torch.equal(x, T.log_uniform(1e-5, 1e-1, 20000, generator=_gen()))
    assert torch.all(T.log_uniform(0.3, 0.3, (2, 3)) == 0.3)
    with pytest.raises(ValueError):
        T.log_uniform(0.0, 1.0)
    with pytest.raises(ValueError):
        T.log_uniform(1.0, 0.5)


def test_log_uniform_keeps_device_and_dtype(device):
    x = T.log_uniform(1e-3, 1.0, (3, 4), dtype=torch.float32, device=device)
    assert x.shape == (3, 4) and x.dtype == torch.float32 and x.device.type == device.type


def test_grid_points_is_the_cartesian_product():
    pts = T.grid_points({"lr": [0.1, 0.01], "wd": [0.0, 1e-4, 1e-3]})
    assert len(pts) == 6
    assert pts[0] == {"lr": 0.1, "wd": 0.0} and pts[-1] == {"lr": 0.01, "wd": 1e-3}
    assert len({tuple(p.values()) for p in pts}) == 6


def test_random_search_samples_more_distinct_values_of_each_hyperparameter_than_a_grid():
    n = 16
    grid = T.grid_points({"lr": [1e-4, 1e-3, 1e-2, 1e-1], "wd": [1e-5, 1e-4, 1e-3, 1e-2]})
    rand = T.random_points({"lr": T.LogUniform(1e-4, 1e-1), "wd": T.LogUniform(1e-5, 1e-2)}, n,
                           generator=_gen(1))
    assert len(grid) == len(rand) == n
    assert len({p["lr"] for p in grid}) == 4
    assert len({p["lr"] for p in rand}) == n  # every trial tries a new learning rate
    assert all(1e-4 <= p["lr"] <= 1e-1 and 1e-5 <= p["wd"] <= 1e-2 for p in rand)


def test_searches_evaluate_the_objective_and_best_trial_picks_the_extreme():
    def objective(lr, width):
        return (math.log10(lr) + 2) ** 2 + 0.01 * width

    trials = T.grid_search(objective, {"lr": [1e-3, 1e-2, 1e-1], "width": [8, 16]})
    assert [t.score for t in trials] == [objective(**t.params) for t in trials]
    assert T.best_trial(trials).params == {"lr": 1e-2, "width": 8}
    assert T.best_trial(trials, mode="max").params == {"lr": 1e-3, "width": 16}

    space = {"lr": T.LogUniform(1e-3, 1e-1), "width": T.Choice([8, 16, 32])}
    rtrials = T.random_search(objective, space, 12, generator=_gen(2))
    assert len(rtrials) == 12
    assert all(t.params["width"] in (8, 16, 32) for t in rtrials)
    assert all(t.score == objective(**t.params) for t in rtrials)
    # the same seed draws the same configurations
    again = T.random_search(objective, space, 12, generator=_gen(2))
    assert [t.params for t in again] == [t.params for t in rtrials]
    u = T.Uniform(2.0, 3.0).sample(100, _gen())
    assert all(2.0 <= v < 3.0 for v in u)


# ----------------------------------------------------------------------------- sanity checks


def _classifier(seed: int = 0, num_classes: int = 10) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, num_classes))


def _digits_batch(n: int = 256):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.as_tensor(bunch.data[:n], dtype=torch.float32)
    x = (x - x.mean()) / x.std()
    return x, torch.as_tensor(bunch.target[:n])


def test_expected_initial_loss_is_log_c():
    assert T.expected_initial_loss(10) == pytest.approx(2.302585092994046)
    assert T.expected_initial_loss(2) == pytest.approx(math.log(2))
    with pytest.raises(ValueError):
        T.expected_initial_loss(1)


def test_initial_loss_check_on_a_freshly_initialised_classifier(device):
    x, y = _digits_batch()
    model = _classifier().to(device)
    check = T.initial_loss_check(model, (x, y), num_classes=10)
    assert check.ok and abs(check.loss - math.log(10)) < 0.1
    # equal logits give exactly log C
    zero = _classifier().to(device)
    nn.init.zeros_(zero[2].weight)
    nn.init.zeros_(zero[2].bias)
    assert T.initial_loss_check(zero, (x, y), 10).loss == pytest.approx(math.log(10), rel=1e-6)
    # weights 30x too large: confident, wrong guesses, far above log C
    big = _classifier().to(device)
    with torch.no_grad():
        for p in big.parameters():
            p.mul_(30)
    bad = T.initial_loss_check(big, (x, y), 10)
    assert not bad.ok and bad.loss > 2 * math.log(10)


def test_initial_loss_check_accepts_a_loader_and_restores_training_mode():
    x, y = _digits_batch()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64)
    model = _classifier()
    model.train()
    full = T.initial_loss_check(model, loader, 10, max_batches=None)
    assert model.training
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y).item()
    assert full.loss == pytest.approx(expected, rel=1e-6)


def test_overfit_small_sample_memorises_a_few_batches():
    x, y = _digits_batch(160)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    result = T.overfit_small_sample(_classifier(), loader, num_batches=5, epochs=100, lr=0.05)
    assert result.success and result.accuracies[-1] == 1.0
    assert result.losses[-1] < 0.2 * result.losses[0]
    # with a learning rate of zero nothing is learned
    stuck = T.overfit_small_sample(_classifier(), loader, num_batches=5, epochs=3, lr=0.0)
    assert not stuck.success and stuck.losses[0] == pytest.approx(stuck.losses[-1])


def test_lr_range_test_sweeps_exponentially_and_restores_the_model():
    x, y = _digits_batch(512)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True, generator=_gen()
    )
    model = _classifier()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = T.lr_range_test(model, loader, min_lr=1e-4, max_lr=10.0, num_steps=60)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    k = len(result.lrs)
    assert result.lrs[0] == pytest.approx(1e-4)
    ratios = [b / a for a, b in zip(result.lrs, result.lrs[1:], strict=False)]
    assert ratios == pytest.approx([1e5 ** (1 / 59)] * (k - 1))
    assert k < 60  # the loss blows up before 10 for this model, which stops the sweep
    assert 1e-4 < result.suggested_lr < 1.0
    best = min(range(k), key=result.losses.__getitem__)
    assert result.suggested_lr == pytest.approx(result.lrs[best] / 10)


# ----------------------------------------------------------------------------- update ratio


def test_update_ratio_exact_on_a_known_sgd_step(device):
    w = nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64, device=device))
    b = nn.Parameter(torch.tensor([0.0, 0.0], dtype=torch.float64, device=device))
    model = nn.Module()
    model.w, model.b = w, b
    monitor = T.UpdateRatioMonitor(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor.attach(opt)
    w.grad = torch.tensor([0.6, 0.8], dtype=torch.float64, device=device)  # norm 1
    b.grad = torch.tensor([1.0, 0.0], dtype=torch.float64, device=device)
    opt.step()
    assert monitor.history["w"] == [pytest.approx(0.1 * 1.0 / 5.0, rel=1e-14)]
    assert monitor.history["b"] == [math.inf]  # the update of a zero vector is infinitely large
    w.grad = torch.tensor([3.0, 4.0], dtype=torch.float64, device=device)  # w is now (2.94, 3.92)
    opt.step()
    assert monitor.history["w"][1] == pytest.approx(0.1 * 5.0 / 4.9, rel=1e-14)
    monitor.detach()
    opt.step()
    assert len(monitor.history["w"]) == 2
    assert T.update_ratio(torch.zeros(3), torch.zeros(3)) == 0.0


def test_update_ratio_monitor_by_hand_and_weights_only():
    model = _classifier()
    monitor = T.UpdateRatioMonitor(model, only_weights=True)
    assert set(monitor.history) == {"0.weight", "2.weight"}
    with pytest.raises(RuntimeError):
        monitor.record()
    monitor.snapshot()
    with torch.no_grad():
        model[0].weight.mul_(1.001)
    ratios = monitor.record()
    assert ratios["0.weight"] == pytest.approx(1e-3, rel=1e-3)
    assert ratios["2.weight"] == 0.0


# ----------------------------------------------------------------------------- learning curves

N = 30
EPOCHS = range(N)
COSINE_LR = [0.05 * (1 + math.cos(math.pi * t / N)) for t in EPOCHS]


def _curves() -> dict[str, dict[str, list[float]]]:
    """One synthetic history of each kind the lectures show."""
    healthy = [0.05 + 2.25 * math.exp(-t / 4) for t in EPOCHS]
    bad_init = [2.3 if t < 10 else 0.05 + 2.25 * math.exp(-(t - 10) / 3) for t in EPOCHS]
    plateau = [1.0 + 1.3 * math.exp(-t / 3) for t in EPOCHS]
    too_early = [2.3 - 0.25 * t if t < 6 else 0.9 - 0.004 * (t - 6) for t in EPOCHS]
    overfit_train = [0.01 + 2.29 * math.exp(-t / 3) for t in EPOCHS]
    overfit_val = [0.3 + 2.0 * math.exp(-t / 3) + 0.001 * max(0, t - 10) ** 2 for t in EPOCHS]
    under = [2.3 - 0.04 * t for t in EPOCHS]
    return {
        "healthy": {"train_loss": healthy, "val_loss": [v + 0.05 for v in healthy],
                    "train_acc": [0.99] * N, "val_acc": [0.97] * N, "lr": COSINE_LR},
        "bad_init": {"train_loss": bad_init, "val_loss": [v + 0.05 for v in bad_init],
                     "lr": COSINE_LR},
        "plateau": {"train_loss": plateau, "lr": [0.1] * N},
        "decayed_too_early": {"train_loss": too_early,
                              "lr": [0.1 if t < 6 else 0.01 for t in EPOCHS]},
        "overfitting": {"train_loss": overfit_train, "val_loss": overfit_val, "lr": [0.1] * N},
        "underfitting": {"train_loss": under, "val_loss": [v + 0.02 for v in under],
                         "lr": [0.1] * N},
        "diverged": {"train_loss": [2.3, 2.0, 5.0, float("nan")] + [float("nan")] * (N - 4)},
    }


@pytest.mark.parametrize("kind", list(_curves()))
def test_diagnose_learning_curve_names_each_kind(kind):
    history = _curves()[kind]
    assert T.diagnose_learning_curve(history) == kind
    # the same from an object with attributes, like nntrain.train.History
    assert T.diagnose_learning_curve(SimpleNamespace(**history)) == kind
    assert kind in T.CURVE_ADVICE


def test_diagnose_distinguishes_a_healthy_step_decay_from_an_early_one():
    # the loss has levelled off before the rate drops, then falls again: healthy
    loss = [0.4 + 1.9 * math.exp(-t / 2) if t < 15 else 0.1 + 0.3 * math.exp(-(t - 15))
            for t in EPOCHS]
    lr = [0.1 if t < 15 else 0.01 for t in EPOCHS]
    assert T.diagnose_learning_curve({"train_loss": loss, "lr": lr}) == "healthy"
    # the same curve without its decay is a plateau
    plateau = [0.4 + 1.9 * math.exp(-t / 2) for t in EPOCHS]
    assert T.diagnose_learning_curve({"train_loss": plateau, "lr": [0.1] * N}) == "plateau"


def test_a_flat_noisy_validation_loss_is_not_overfitting():
    # validation loss flat at 0.1 with +-15 % noise: its last value is often 10 % above its
    # minimum, but it never turned up and stayed up
    noise = [0.15 * math.sin(2.7 * t) for t in EPOCHS]
    train = [0.02 + 2.0 * math.exp(-t / 2) for t in EPOCHS]
    val = [0.1 * (1 + e) + 2.0 * math.exp(-t / 2) for t, e in zip(EPOCHS, noise, strict=True)]
    assert val[-1] > 1.1 * min(val)  # the old rule (last vs minimum) fired here
    history = {"train_loss": train, "val_loss": val, "lr": [0.1] * N}
    assert T.diagnose_learning_curve(history) != "overfitting"


def test_an_explosion_inside_the_first_epoch_is_diverged():
    # the epoch means hide it (the first epoch's mean is huge, then the dead network sits
    # at log C, below it); the per-step loss shows it
    history = {"train_loss": [5e5, 2.4, 2.35, 2.34, 2.34], "lr": [3.0] * 5,
               "step_loss": [2.3, 2.2, 1e7, 2.4, 2.3]}
    assert T.diagnose_learning_curve(history) == "diverged"
    history["step_loss"] = [2.3, 2.2, 2.0, 1.5, 1.0]
    assert T.diagnose_learning_curve(history) != "diverged"


def test_a_noisy_plateau_is_a_plateau():
    # flat at 0.2 after a fast drop, with noise: the last value is below the tail's first,
    # but the tail's best does not improve on the best before it
    noise = [0.05 * math.sin(1.9 * t) for t in EPOCHS]
    loss = [0.2 + e + 1.1 * math.exp(-t / 2) for t, e in zip(EPOCHS, noise, strict=True)]
    assert loss[-10] - loss[-1] > 0.02 * (loss[0] - min(loss))  # the old measure saw progress
    assert T.diagnose_learning_curve({"train_loss": loss, "lr": [1.0] * N}) == "plateau"


def test_diagnose_overfitting_from_the_accuracy_gap_and_input_checks():
    loss = [0.05 + 2.25 * math.exp(-t / 4) for t in EPOCHS]
    history = {"train_loss": loss, "train_acc": [1.0] * N, "val_acc": [0.8] * N, "lr": COSINE_LR}
    assert T.diagnose_learning_curve(history) == "overfitting"
    with pytest.raises(ValueError):
        T.diagnose_learning_curve({"train_loss": [1.0, 0.5]})
