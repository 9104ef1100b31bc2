"""Tests of nntrain.transfer: freezing, parameter groups, BatchNorm in eval mode, probes, LoRA."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nntrain.models import MLP, SmallCNN
from nntrain.train import fit
from nntrain.transfer import (
    BatchNormEval,
    LinearProbe,
    LoRALinear,
    apply_lora,
    count_parameters,
    extract_features,
    freeze,
    freeze_until,
    new_head,
    param_groups,
    set_batchnorm_eval,
    unfreeze,
)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _mlp(**kwargs) -> MLP:
    torch.manual_seed(0)
    return MLP(6, 3, width=8, depth=3, **kwargs)


def _loader(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def _sgd_steps(model, steps=3, lr=0.1):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr)
    for x, y in list(_loader())[:steps]:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_freeze_and_unfreeze_really_stop_updates():
    model = _mlp()
    freeze(model.features)
    before = _snapshot(model)
    _sgd_steps(model)
    after = model.state_dict()
    for k in before:
        if k.startswith("features."):
            assert torch.equal(before[k], after[k]), k
    assert not torch.equal(before["head.weight"], after["head.weight"])
    assert all(p.grad is None for p in model.features.parameters())
    unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())


def test_freeze_until():
    model = _mlp()
    frozen = freeze_until(model, "features.fc3")
    assert frozen == ["features.fc1.weight", "features.fc1.bias",
                      "features.fc2.weight", "features.fc2.bias"]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["features.fc3.weight", "features.fc3.bias", "head.weight", "head.bias"]
    assert freeze_until(model, "head") == frozen + ["features.fc3.weight", "features.fc3.bias"]
    freeze_until(model, "features.fc1")  # everything trainable again
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(KeyError, match="no parameters"):
        freeze_until(model, "features.fc9")


def test_count_parameters():
    model = _mlp()
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == (total, total)
    freeze(model.features)
    assert count_parameters(model) == (8 * 3 + 3, total)


def test_param_groups_longest_prefix_and_frozen_left_out():
    model = _mlp()
    groups = param_groups(model, {"features": 1e-4, "features.fc3": 1e-3, "head": 1e-2})
    by_name = {g["name"]: g for g in groups}
    assert by_name["features"]["lr"] == 1e-4 and len(by_name["features"]["params"]) == 4
    assert by_name["features.fc3"]["params"] == list(model.features.fc3.parameters())
    assert by_name["head"]["params"] == list(model.head.parameters())
    opt = torch.optim.SGD(groups, lr=0.5)
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-3, 1e-2]
    freeze(model.features.fc1)
    groups = param_groups(model, {"head": 1e-2}, default_lr=1e-3)
    assert [g["name"] for g in groups] == ["head", "default"]
    assert len(groups[1]["params"]) == 4  # fc2 and fc3; fc1 is frozen
    with pytest.raises(ValueError, match="matches none"):
        param_groups(model, {"head": 1e-2})
    assert len(param_groups(model, {"": 0.1})[0]["params"]) == 6


def test_param_groups_with_fit_keep_their_ratio_under_a_schedule():
    model = _mlp()
    opt = torch.optim.SGD(param_groups(model, {"features": 0.01, "head": 0.1}))
    lrs = []
    fit(model, _loader(), epochs=1, optimizer=opt, scheduler=lambda t: 0.1 / (t + 1),
        progress=False, hooks=[lambda s: lrs.append([g["lr"] for g in s.optimizer.param_groups])])
    # the schedule sets the first group's rate; the head keeps its ten times larger one
    assert lrs == [[pytest.approx(0.1 / (t + 1)), pytest.approx(1.0 / (t + 1))]
                   for t in range(3)]


def test_batchnorm_eval_keeps_running_statistics_fixed():
    model = _mlp(norm="batch")
    model.train()
    _sgd_steps(model)  # some running statistics
    running = model.features.norm1.running_mean.clone()
    set_batchnorm_eval(model)
    assert not model.features.norm1.training and model.features.fc1.training
    _sgd_steps(model)
    assert torch.equal(model.features.norm1.running_mean, running)
    set_batchnorm_eval(model, freeze_affine=True)
    assert not model.features.norm1.weight.requires_grad


def test_batchnorm_eval_hook_in_fit():
    model = _mlp(norm="batch")
    running = model.features.norm2.running_var.clone()
    modes = []
    fit(model, _loader(), epochs=2, hooks=[BatchNormEval(),
                                           lambda s: modes.append(s.model.features.norm2.training)],
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert modes and not any(modes)
    assert torch.equal(model.features.norm2.running_var, running)
    fit(model, _loader(), epochs=1, progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert not torch.equal(model.features.norm2.running_var, running)  # without the hook


def test_extract_features_and_linear_probe():
    model = _mlp(norm="batch", dropout=0.3)
    model.train()
    loader = DataLoader(_loader().dataset, batch_size=16)
    feats, labels = extract_features(model.features, loader)
    assert feats.shape == (48, 8) and labels.shape == (48,)
    assert model.training  # mode restored
    model.eval()
    torch.testing.assert_close(feats, model.features(loader.dataset.tensors[0]))

    pretrained = _snapshot(model)
    probe = LinearProbe(model.features, model.out_features, 5)
    probe.train()
    assert not probe.features.training and probe.head.training
    assert count_parameters(probe)[0] == 8 * 5 + 5
    h = fit(probe, _loader(), epochs=3, progress=False,
            optimizer=torch.optim.SGD(probe.parameters(), lr=0.1))
    assert len(h.train_loss) == 3
    for k, v in model.features.state_dict().items():
        assert torch.equal(v, pretrained["features." + k]), k  # running stats too
    x = loader.dataset.tensors[0][:4]
    torch.testing.assert_close(probe(x), probe.head(model.features(x)))


def test_new_head():
    model = _mlp()
    new_head(model, 7, generator=torch.Generator().manual_seed(0))
    assert model(torch.randn(2, 6)).shape == (2, 7)
    bound = 1 / 8 ** 0.5
    assert float(model.head.weight.detach().abs().max()) <= bound
    with pytest.raises(TypeError):
        new_head(nn.Sequential(), 3)


def test_lora_linear_equals_base_at_init_and_merges(device):
    torch.manual_seed(0)
    base = nn.Linear(10, 6).to(device=device, dtype=torch.float64)
    lora = LoRALinear(copy.deepcopy(base), r=2, alpha=4.0)
    x = torch.randn(5, 10, dtype=torch.float64, device=device)
    torch.testing.assert_close(lora(x), base(x), rtol=0, atol=0)  # B = 0
    assert torch.count_nonzero(lora.lora_B) == 0 and torch.count_nonzero(lora.lora_A) > 0
    assert [n for n, p in lora.named_parameters() if p.requires_grad] == ["lora_A", "lora_B"]
    with torch.no_grad():
        lora.lora_B.normal_()
    expected = base(x) + 2.0 * x @ (lora.lora_B @ lora.lora_A).t()
    torch.testing.assert_close(lora(x), expected)
    assert torch.linalg.matrix_rank(lora.delta_weight()) <= 2
    torch.testing.assert_close(lora.merged()(x), lora(x))
    with pytest.raises(ValueError):
        LoRALinear(base, r=0)


def test_apply_lora_equals_base_model_at_init_and_trains_only_a_and_b():
    model = _mlp(norm="batch")
    base = copy.deepcopy(model).eval()
    apply_lora(model, r=2, alpha=2.0)
    model.eval()
    x = torch.randn(7, 6)
    torch.testing.assert_close(model(x), base(x), rtol=0, atol=0)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.endswith(("lora_A", "lora_B")) for n in trainable)
    assert len(trainable) == 2 * 4  # three hidden layers and the head
    model.train()
    _sgd_steps(model)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            original = base.state_dict()[name.replace(".base", "")]
            assert torch.equal(p, original), name  # frozen weights (and BN affine) unchanged
    assert torch.count_nonzero(model.head.lora_B) > 0  # A and B did train


def test_apply_lora_target_and_trainable_head():
    model = _mlp()
    apply_lora(model, r=1, target="features", trainable=("head",))
    assert isinstance(model.features.fc1, LoRALinear) and isinstance(model.head, nn.Linear)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"features.fc{i}.lora_{m}" for i in (1, 2, 3) for m in "AB"} | {
        "head.weight", "head.bias"}
    only_fc2 = apply_lora(_mlp(), target=lambda name, m: name.endswith("fc2"))
    assert isinstance(only_fc2.features.fc2, LoRALinear)
    assert not isinstance(only_fc2.features.fc1, LoRALinear)
    with pytest.raises(ValueError, match="no nn.Linear"):
        apply_lora(SmallCNN(1, 3), target="features")
