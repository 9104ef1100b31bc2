"""A tiny suite for a3 (the grader's tests): each kind of test the grader must score."""

from __future__ import annotations

import math

import pytest
import torch


@pytest.mark.points(2, part="linear_scaling_rule")
def test_linear_scaling_rule_scales_with_the_batch(student):
    value = student.linear_scaling_rule(0.1, 512)
    assert value == pytest.approx(0.2), f"linear_scaling_rule(0.1, 512) is {value}, not 0.2"


@pytest.mark.points(3, part="step_lr")
@pytest.mark.parametrize("t", [0, 4, 5, 12])
def test_step_lr_decays_every_step_size(student, t):
    expected = 1.0 * 0.1 ** (t // 5)
    assert student.step_lr(t, 1.0, 5) == pytest.approx(expected), f"step_lr is wrong at t={t}"


@pytest.mark.points(1, part="step_lr")
def test_step_lr_accepts_a_gamma(student, device):
    torch.zeros(1, device=device)
    assert student.step_lr(5, 1.0, 5, gamma=0.5) == pytest.approx(0.5)


@pytest.mark.points(4, part="cosine_lr")
def test_cosine_lr_bare_assert_hides_its_values(student):
    assert student.cosine_lr(5, 1.0, 10) == 0.5 * (1 + math.cos(math.pi * 5 / 10))


@pytest.mark.points(5, part="clip_grad_norm")
def test_clip_grad_norm_scales_in_place(student):
    grads = [torch.tensor([3.0, 4.0])]
    info = student.call("clip_grad_norm", grads, 1.0)
    assert float(info.value) == pytest.approx(5.0), "clip_grad_norm should return the norm"
    assert 0 in info.modified, "clip_grad_norm should scale the gradients in place"
    assert torch.allclose(info.args_after[0][0], torch.tensor([0.6, 0.8]))
