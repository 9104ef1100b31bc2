"""Tests of nntrain.train: fit (schedules, clipping, EMA hook, early stopping, best checkpoint,
AMP, hooks, transforms, progress bar), evaluate, predict_proba, set_seed, get_device."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nntrain.data import digits_loaders
from nntrain.models import MLP
from nntrain.regularization import EarlyStopping
from nntrain.train import History, Hook, evaluate, fit, get_device, predict_proba, set_seed


def _toy_loaders(n: int = 96, batch_size: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    train = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=64)
    return train, val


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return MLP(5, 3, width=16, depth=1)


@pytest.fixture(autouse=True)
def one_thread():
    """These tiny models train fastest on one thread (and do not fight other processes for the
    cores); the setting is restored after each test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_digits_mlp_reaches_95_percent_quickly():
    set_seed(0)
    train, val, test = digits_loaders(batch_size=64, seed=0)
    model = MLP(64, 10, width=128, depth=2)
    history = fit(model, train, val, epochs=15, progress=False, device="cpu",
                  optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    _, test_acc = evaluate(model, test)
    assert test_acc >= 0.95
    assert history.epochs == 15 and len(history.step_loss) == 15 * len(train)
    assert history.train_loss[-1] < history.train_loss[0]


def test_same_seed_gives_identical_history():
    def run(seed: int) -> History:
        set_seed(seed)
        x = torch.randn(64, 5)
        y = (x[:, 0] > 0).long()
        # shuffling from the global stream, so set_seed alone must fix it
        train = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
        model = MLP(5, 2, width=8, depth=1, dropout=0.2)
        return fit(model, train, train, epochs=3, progress=False, device="cpu",
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.1))

    a, b, c = run(1), run(1), run(2)
    assert a.as_dict() | {"epoch_time": None} == b.as_dict() | {"epoch_time": None}
    assert a.step_loss != c.step_loss


def test_history_contents_and_access():
    train, val = _toy_loaders()
    model = _model()
    h = fit(model, train, val, epochs=3, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.05))
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time"):
        assert len(h[key]) == 3
    assert len(h.step_loss) == len(h.step_lr) == 3 * len(train)
    assert h.lr == [0.05] * 3 and h.step_grad_norm == [] and h.ema_val_acc == []
    assert all(0 <= a <= 1 for a in h.train_acc + h.val_acc)
    assert h.as_dict()["val_loss"] == h.val_loss
    no_val = fit(_model(), train, epochs=1, progress=False, optimizer=torch.optim.SGD(
        model.parameters(), lr=0.05))
    assert no_val.val_loss == [] and no_val.best_epoch is None


def test_train_loss_is_the_mean_of_the_step_losses():
    x = torch.randn(40, 5)
    y = (x[:, 0] > 0).long()
    train = DataLoader(TensorDataset(x, y), batch_size=10)  # equal batches
    model = _model()
    h = fit(model, train, epochs=2, progress=False, keep_best=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert h.train_loss[0] == pytest.approx(sum(h.step_loss[:4]) / 4, rel=1e-6)


def test_schedule_function_sets_lr_each_step_and_keeps_group_ratios():
    train, _ = _toy_loaders()
    model = _model()
    opt = torch.optim.SGD([
        {"params": model.features.parameters(), "lr": 0.01},
        {"params": model.head.parameters(), "lr": 0.1},
    ])
    seen = []

    class Record(Hook):
        def after_backward(self, state):
            seen.append([g["lr"] for g in state.optimizer.param_groups])

    schedule = lambda t: 0.2 / (1 + t)  # noqa: E731
    h = fit(model, train, epochs=2, optimizer=opt, scheduler=schedule, progress=False,
            hooks=[Record()])
    steps = 2 * len(train)
    assert h.step_lr == pytest.approx([schedule(t) for t in range(steps)])
    assert [g[0] for g in seen] == pytest.approx([schedule(t) for t in range(steps)])
    assert [g[1] for g in seen] == pytest.approx([10 * schedule(t) for t in range(steps)])


def test_torch_scheduler_is_stepped_after_every_optimizer_step():
    train, _ = _toy_loaders()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    h = fit(model, train, epochs=2, optimizer=opt, scheduler=sched, progress=False)
    expected = [0.1 * 0.5 ** (t // 4) for t in range(2 * len(train))]
    assert h.step_lr == pytest.approx(expected)
    assert sched.last_epoch == 2 * len(train)


def test_reduce_on_plateau_is_stepped_per_epoch_with_val_loss():
    train, val = _toy_loaders()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)  # no progress: the loss plateaus
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5,
                                                       threshold=1e-3)
    h = fit(model, train, val, epochs=4, optimizer=opt, scheduler=sched, progress=False)
    # epoch 0 sets the best loss, every later epoch fails to improve and halves the rate
    assert h.lr == pytest.approx([1e-6, 1e-6, 5e-7, 2.5e-7], rel=1e-9)


def test_clip_norm_clips_the_update_and_records_the_norm():
    x = torch.randn(16, 5) * 100
    y = torch.randint(0, 3, (16,))
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    norms = []

    class Norm(Hook):
        def after_backward(self, state):
            grads = [p.grad for p in state.model.parameters()]
            norms.append(float(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g) for g in grads]))))

    h = fit(model, loader, epochs=1, clip_norm=0.5, progress=False, hooks=[Norm()],
            optimizer=torch.optim.SGD(model.parameters(), lr=1.0))
    assert norms[0] > 0.5  # the test is only meaningful if clipping was active
    assert h.step_grad_norm == pytest.approx(norms, rel=1e-5)
    step = torch.linalg.vector_norm(torch.cat(
        [(p.detach() - b).flatten() for p, b in zip(model.parameters(), before, strict=True)]))
    assert float(step) == pytest.approx(0.5, rel=1e-4)  # lr * clipped gradient


def test_ema_object_is_updated_after_every_step():
    train, val = _toy_loaders()
    calls = []

    class CountingEMA:
        def update(self, model):
            calls.append(model.head.weight.detach().clone())

    model = _model()
    fit(model, train, val, epochs=2, ema=CountingEMA(), progress=False, keep_best=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert len(calls) == 2 * len(train)
    torch.testing.assert_close(calls[-1], model.head.weight.detach())  # after the step


def test_ema_module_is_evaluated_each_epoch():
    train, val = _toy_loaders()
    model = _model()
    frozen = _model(seed=5)

    class FrozenEMA(nn.Module):  # an "average" that never moves
        def __init__(self):
            super().__init__()
            self.net = frozen

        def forward(self, x):
            return self.net(x)

        def update(self, model):
            pass

    h = fit(model, train, val, epochs=2, ema=FrozenEMA(), progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    expected = evaluate(frozen, val)
    assert h.ema_val_loss == pytest.approx([expected[0]] * 2)
    assert h.ema_val_acc == pytest.approx([expected[1]] * 2)


def test_early_stopping_stops_and_keep_best_restores():
    train, val = _toy_loaders()
    model = _model()
    stopper = EarlyStopping(patience=1, mode="max", monitor="val_acc")
    # a learning rate so large that the model gets worse after the first epochs
    h = fit(model, train, val, epochs=30, early_stopping=stopper, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=5.0, momentum=0.9))
    assert h.stopped_epoch is not None and h.epochs == h.stopped_epoch + 1 < 30
    best = max(h.val_acc)
    assert h.val_acc[h.best_epoch] == best
    assert evaluate(model, val)[1] == pytest.approx(best)


def test_keep_best_restores_the_epoch_early_stopping_monitors():
    train, val = _toy_loaders()
    model = _model()
    stopper = EarlyStopping(patience=3, monitor="val_loss")
    h = fit(model, train, val, epochs=30, early_stopping=stopper, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=5.0, momentum=0.9))
    lowest = min(range(h.epochs), key=h.val_loss.__getitem__)
    assert h.best_epoch == lowest == stopper.best_step, (h.best_epoch, lowest, h.val_loss)
    assert evaluate(model, val)[0] == pytest.approx(h.val_loss[lowest])


def test_early_stopping_callable_and_keep_best_false():
    train, val = _toy_loaders()
    model = _model()
    checks = []

    def stop_on_third(value: float) -> bool:
        checks.append(value)
        return len(checks) == 3

    h = fit(model, train, val, epochs=10, early_stopping=stop_on_third, keep_best=False,
            progress=False, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert h.epochs == 3 and h.stopped_epoch == 2
    assert checks == h.val_loss  # a plain callable watches the validation loss
    assert evaluate(model, val) == pytest.approx((h.val_loss[-1], h.val_acc[-1]))


def test_hooks_see_every_event_and_can_stop():
    train, val = _toy_loaders()
    events = []

    class Recorder(Hook):
        def on_fit_start(self, state):
            events.append("start")

        def on_epoch_start(self, state):
            events.append(f"begin{state.epoch}")
            assert state.model.training

        def on_epoch_end(self, state):
            events.append(f"epoch{state.epoch}")

        def on_fit_end(self, state):
            events.append("end")

    def stop_at_step_5(state):  # a plain callable runs after each step
        events.append("step")
        if state.step == 5:
            state.stop = True

    model = _model()
    h = fit(model, train, val, epochs=3, progress=False, hooks=[Recorder(), stop_at_step_5],
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert events == ["start", "begin0"] + ["step"] * 6 + ["epoch0", "end"]
    assert len(h.step_loss) == 6 and h.stopped_epoch == 0


def test_transform_and_soft_targets():
    train, val = _toy_loaders()
    calls = []

    def to_soft(x, y):
        calls.append(len(x))
        return x, F.one_hot(y, 3).float() * 0.9 + 0.1 / 3

    model = _model()
    h = fit(model, train, val, epochs=20, transform=to_soft, progress=False,
            optimizer=torch.optim.Adam(model.parameters(), lr=1e-2))
    assert len(calls) == 20 * len(train)
    assert h.train_acc[-1] > 0.8 and h.val_acc[-1] > 0.8


def test_optimizer_factory():
    train, _ = _toy_loaders()
    model = _model()
    h = fit(model, train, epochs=1, progress=False,
            optimizer=lambda params: torch.optim.SGD(params, lr=0.01))
    assert h.lr == [0.01]


def test_progress_bar_can_be_switched_off(capsys):
    train, _ = _toy_loaders()
    model = _model()
    fit(model, train, epochs=1, progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert capsys.readouterr().err == ""
    fit(model, train, epochs=1, progress=True,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert "fit" in capsys.readouterr().err


def test_fit_on_device(device):
    train, val = _toy_loaders()
    model = _model()
    h = fit(model, train, val, epochs=2, device=device, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert all(p.device.type == device.type for p in model.parameters())
    assert all(math.isfinite(v) for v in h.train_loss + h.val_loss)


def test_amp(device):
    train, val = _toy_loaders()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    if device.type == "cpu":
        with pytest.warns(UserWarning, match="only used on CUDA"):
            h = fit(model, train, val, epochs=2, device=device, amp=True, progress=False,
                    optimizer=opt)
    else:
        for mode in (True, "bf16"):
            h = fit(model, train, val, epochs=3, device=device, amp=mode, progress=False,
                    optimizer=opt)
    assert all(math.isfinite(v) for v in h.train_loss + h.val_loss)
    assert h.train_loss[-1] < h.train_loss[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_evaluate_and_predict_proba_match_manual_computation():
    train, val = _toy_loaders()
    model = _model()
    model.train()
    x, y = val.dataset.tensors
    with torch.no_grad():
        model.eval()
        logits = model(x)
        model.train()
    loss, acc = evaluate(model, val)
    assert loss == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)
    assert acc == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    assert model.training  # mode restored
    probs = predict_proba(model, val)
    assert probs.shape == (32, 3) and probs.device.type == "cpu"
    torch.testing.assert_close(probs, torch.softmax(logits, 1))
    torch.testing.assert_close(probs.sum(1), torch.ones(32))


def test_get_device():
    auto = get_device()
    assert auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert get_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            get_device("cuda")
