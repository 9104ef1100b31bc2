"""Tests of nntrain.ensembles: EMA against torch's AveragedModel, averaging, snapshots."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, TensorDataset

from nntrain.ensembles import (
    EMA,
    SnapshotCollector,
    average_probabilities,
    ensemble_predict_proba,
    evaluate_ensemble,
    fit_snapshot_ensemble,
)
from nntrain.models import MLP
from nntrain.schedules import cosine_restarts_lr
from nntrain.train import TrainState, evaluate, fit


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(dtype=torch.float64, device="cpu") -> nn.Module:
    torch.manual_seed(0)
    return MLP(6, 3, width=8, depth=2, norm="batch").to(device=device, dtype=dtype)


def _train_alongside(model, averagers, steps=12, device="cpu"):
    """SGD steps on random batches; every averager is updated after each step."""
    opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 6, generator=g, dtype=torch.float64).to(device)
        y = torch.randint(0, 3, (16,), generator=g).to(device)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        for a in averagers:
            a.update_parameters(model)


@pytest.mark.parametrize("decay", [0.9, 0.5, 0.999])
def test_ema_matches_averaged_model(decay, device):
    model = _model(device=device)
    ours = EMA(model, decay=decay)
    torch_ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    _train_alongside(model, [ours, torch_ema], device=device)
    assert int(ours.n_averaged) == int(torch_ema.n_averaged) == 12
    for (name, a), b in zip(ours.module.state_dict().items(),
                            torch_ema.module.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    # and the averages really differ from the model (the test could fail)
    assert not torch.allclose(ours.module.head.weight, model.head.weight)
    x = torch.randn(5, 6, dtype=torch.float64, device=device)
    ours.eval()
    torch_ema.eval()
    torch.testing.assert_close(ours(x), torch_ema(x), rtol=1e-12, atol=1e-12)


def test_ema_with_buffers_matches_averaged_model():
    model = _model()
    ours = EMA(model, decay=0.8, use_buffers=True)
    torch_ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True)
    _train_alongside(model, [ours, torch_ema])
    for (name, a), b in zip(ours.module.state_dict().items(),
                            torch_ema.module.state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
        else:  # a counter is copied, not averaged
            assert torch.equal(a, model.state_dict()[name])
    running = ours.module.features.norm1.running_mean
    assert not torch.allclose(running, model.features.norm1.running_mean)


def test_polyak_average_matches_averaged_model_default():
    model = _model()
    ours = EMA(model, decay=None)
    torch_swa = AveragedModel(model)
    snapshots = []

    class Recorder:
        def update_parameters(self, m):
            snapshots.append(m.head.weight.detach().clone())

    _train_alongside(model, [ours, torch_swa, Recorder()])
    for a, b in zip(ours.module.parameters(), torch_swa.module.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.module.head.weight, torch.stack(snapshots).mean(0))


def test_ema_buffers_follow_model_without_use_buffers():
    model = _model()
    ema = EMA(model, decay=0.9)
    _train_alongside(model, [ema], steps=3)
    for a, b in zip(ema.module.buffers(), model.buffers(), strict=True):
        assert torch.equal(a, b)


def test_ema_warmup_decay_and_validation():
    ema = EMA(nn.Linear(2, 2), decay=0.99, warmup=True)
    other = nn.Linear(2, 2)
    decays = []
    for _ in range(1000):
        decays.append(ema.current_decay())
        ema.update(other)
    assert decays[0] == pytest.approx(0.1) and decays[1] == pytest.approx(2 / 11)
    assert decays[500] == pytest.approx(501 / 510) and decays[-1] == 0.99
    assert all(a <= b for a, b in zip(decays, decays[1:], strict=False))
    with pytest.raises(ValueError):
        EMA(nn.Linear(2, 2), decay=1.5)


def test_ema_of_constant_weights_is_those_weights():
    model = _model()
    ema = EMA(model, decay=0.9)
    for _ in range(5):
        ema.update(model)
    for a, b in zip(ema.module.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert not any(p.requires_grad for p in ema.parameters())


def _loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    train = DataLoader(TensorDataset(x[:90], y[:90]), batch_size=15, shuffle=True,
                       generator=torch.Generator().manual_seed(0))
    val = DataLoader(TensorDataset(x[90:], y[90:]), batch_size=64)
    return train, val


def test_fit_with_ema_records_ema_metrics():
    train, val = _loaders()
    model = _model(torch.float32)
    ema = EMA(model, decay=0.9)
    h = fit(model, train, val, epochs=4, ema=ema, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert int(ema.n_averaged) == 4 * len(train)
    assert len(h.ema_val_acc) == 4
    assert h.ema_val_loss[-1] == pytest.approx(evaluate(ema, val)[0])


def test_average_probabilities():
    torch.manual_seed(0)
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    x = torch.randn(7, 4)
    torch.testing.assert_close(average_probabilities([a], x), torch.softmax(a(x), 1))
    both = average_probabilities([a, b], x)
    torch.testing.assert_close(both, (torch.softmax(a(x), 1) + torch.softmax(b(x), 1)) / 2)
    torch.testing.assert_close(both.sum(1), torch.ones(7))
    weighted = average_probabilities([a, b], x, weights=[1.0, 0.0])
    torch.testing.assert_close(weighted, torch.softmax(a(x), 1))
    with pytest.raises(ValueError):
        average_probabilities([], x)
    with pytest.raises(ValueError):
        average_probabilities([a, b], x, weights=[1.0])


def test_average_probabilities_uses_eval_mode_and_restores_it():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3)).train()
    x = torch.randn(5, 4)
    p1, p2 = average_probabilities([model], x), average_probabilities([model], x)
    torch.testing.assert_close(p1, p2)  # no dropout noise
    assert model.training


def test_evaluate_ensemble_of_one_model_is_evaluate():
    train, val = _loaders()
    model = _model(torch.float32).eval()
    loss, acc = evaluate(model, val)
    e_loss, e_acc = evaluate_ensemble([model], val)
    assert e_loss == pytest.approx(loss, rel=1e-5) and e_acc == pytest.approx(acc)
    assert ensemble_predict_proba([model, model], val).shape == (30, 3)


def test_snapshot_schedule_and_snapshots():
    train, val = _loaders()  # 6 steps per epoch
    model = _model(torch.float32)
    collector = SnapshotCollector(cycle_steps=12)
    seen = {}

    def record(state: TrainState):
        seen[state.step + 1] = {k: v.clone() for k, v in state.model.state_dict().items()}

    schedule = collector.schedule(0.2, 0.01)
    assert [schedule(t) for t in range(30)] == [cosine_restarts_lr(t, 0.2, 12, 1, 0.01)
                                                for t in range(30)]
    h = fit(model, train, epochs=6, scheduler=schedule, hooks=[record, collector],
            progress=False, optimizer=torch.optim.SGD(model.parameters(), lr=0.2))
    assert collector.snapshot_steps == [12, 24, 36]
    assert h.step_lr[11] < 0.02 and h.step_lr[12] == pytest.approx(0.2)  # restart
    for step, snapshot in zip(collector.snapshot_steps, collector.snapshots, strict=True):
        for k, v in snapshot.items():
            assert torch.equal(v, seen[step][k])
    models = collector.models(model)
    assert len(models) == 3 and not models[0].training
    keep = SnapshotCollector(cycle_steps=6, keep_last=2)
    fit(model, train, epochs=4, hooks=[keep], progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert keep.snapshot_steps == [18, 24]
    with pytest.raises(ValueError):
        SnapshotCollector(0)


def test_fit_snapshot_ensemble():
    train, val = _loaders()
    model = _model(torch.float32)
    snapshots, history = fit_snapshot_ensemble(
        model, train, val, cycles=3, epochs_per_cycle=2, base_lr=0.2, progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9))
    assert len(snapshots) == 3 and history.epochs == 6
    for a, b in zip(snapshots[-1].parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)  # the last snapshot is the final model
    assert not torch.equal(snapshots[0].head.weight, snapshots[2].head.weight)
    loss, acc = evaluate_ensemble(snapshots, val)
    assert acc > 0.6 and loss < 1.0
