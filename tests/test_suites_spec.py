"""The hidden suites keep their contract with autograder/spec.py and use sound oracles.

- Every test of a suite has one ``points`` marker naming a graded part; per part the points add
  up to spec.py's, per assignment to 100.
- The suites' fast oracles (torch.optim's functional updates, LR schedulers driven by a minimal
  optimiser) equal torch's public classes, so skipping ``Optimizer.__init__`` (which imports
  torch._dynamo) changes no number.
- The statistical checks accept torch's own random fills at many seeds and reject fills that
  are a few percent off; the student-facing helpers say what is wrong without the expected values.
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch.optim import lr_scheduler

from autograder.grading import checks as _checks
from autograder.spec import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "autograder" / "grading" / "suites"


@pytest.fixture(autouse=True)
def _points_marker_registered(pytestconfig: pytest.Config) -> None:
    """The suites' conftest registers ``points``; importing a suite here needs it too."""
    pytestconfig.addinivalue_line("markers", "points(n, part): points of a hidden-suite test")


def _suite_modules(assignment: str) -> list:
    paths = sorted((SUITES / assignment).glob("test_*.py"))
    return [importlib.import_module(f"autograder.grading.suites.{assignment}.{p.stem}")
            for p in paths]


def _suite_tests(assignment: str) -> list[tuple[str, object]]:
    tests = []
    for module in _suite_modules(assignment):
        for name, function in vars(module).items():
            if name.startswith("test_") and callable(function) \
                    and getattr(function, "__module__", None) == module.__name__:
                tests.append((f"{module.__name__.rsplit('.', 1)[1]}::{name}", function))
    return tests


def _points(function) -> list:
    return [mark for mark in getattr(function, "pytestmark", []) if mark.name == "points"]


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_suite_test_has_one_points_marker_for_a_graded_part(assignment):
    parts = {part.name for part in ASSIGNMENTS[assignment].parts}
    tests = _suite_tests(assignment)
    assert tests, f"no tests in autograder/grading/suites/{assignment}"
    for name, function in tests:
        marks = _points(function)
        assert len(marks) == 1, f"{name} needs exactly one @pytest.mark.points(n, part=...)"
        (n,), kwargs = marks[0].args, marks[0].kwargs
        assert isinstance(n, int | float) and n > 0 and float(n * 4).is_integer(), \
            f"{name}: points must be a positive multiple of 1/4 (exact in binary)"
        assert set(kwargs) == {"part"} and kwargs["part"] in parts, f"{name}: unknown part"


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_points_per_part_add_up_to_the_spec_and_to_100(assignment):
    spec = ASSIGNMENTS[assignment]
    totals: Counter[str] = Counter()
    for _, function in _suite_tests(assignment):
        for mark in _points(function):
            totals[mark.kwargs["part"]] += mark.args[0]
    assert dict(totals) == {part.name: part.points for part in spec.parts}
    assert sum(totals.values()) == spec.total_points == 100


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_part_is_split_into_several_tests_for_partial_credit(assignment):
    counts = Counter(_points(f)[0].kwargs["part"] for _, f in _suite_tests(assignment))
    single = [part.name for part in ASSIGNMENTS[assignment].parts if counts[part.name] < 2]
    assert not single, f"parts graded by a single all-or-nothing test: {single}"


def test_suite_file_names_are_unique_across_assignments():
    stems = [p.stem for p in SUITES.glob("*/test_*.py")]
    assert len(stems) == len(set(stems)), "pytest imports suite files by their base name"


# ----------------------------------------------------------------------------- fast oracles
OPTIMIZER_CASES = [
    ("sgd", torch.optim.SGD, {"lr": 0.1}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.6, "nesterov": True}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                              "weight_decay": 0.1}),
    ("adagrad", torch.optim.Adagrad, {}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.1, "eps": 0.5}),
    ("rmsprop", torch.optim.RMSprop, {}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.5, "eps": 0.3}),
    ("adam", torch.optim.Adam, {}),
    ("adam", torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.9), "eps": 0.3,
                                "weight_decay": 0.1}),
    ("adamw", torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.5, "betas": (0.5, 0.9)}),
]


@pytest.mark.parametrize(("name", "optimizer_class", "hyper"), OPTIMIZER_CASES)
def test_functional_optimizer_oracle_equals_the_torch_optimizer_class(name, optimizer_class,
                                                                       hyper):
    suite = importlib.import_module("autograder.grading.suites.a3_optim_schedules.test_optim")
    w0, grads = suite._problem(20, seed=3)
    fast = suite._torch_trajectory(suite.TorchRule(name, **hyper), w0, grads)
    parameter = torch.nn.Parameter(w0.clone())
    optimizer = optimizer_class([parameter], **hyper)
    for step, grad in enumerate(grads):
        parameter.grad = grad.clone()
        optimizer.step()
        torch.testing.assert_close(fast[step], parameter.detach(), rtol=1e-14, atol=1e-15)


SCHEDULER_CASES = [
    lambda o: lr_scheduler.StepLR(o, 3, 0.5),
    lambda o: lr_scheduler.MultiStepLR(o, [3, 7, 12], 0.3),
    lambda o: lr_scheduler.CosineAnnealingLR(o, 20, 0.01),
    lambda o: lr_scheduler.LinearLR(o, 1.0, 0.0, 10),
    lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
    lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.LinearLR(o, 0.25, 1.0, 6), lr_scheduler.StepLR(o, 4, 0.5)], [6]),
]


@pytest.mark.parametrize("make", SCHEDULER_CASES)
def test_scheduler_oracle_equals_a_scheduler_driving_a_real_optimizer(make):
    suite = importlib.import_module("autograder.grading.suites.a3_optim_schedules.test_schedules")
    fast = suite._torch_lrs(make, 0.1, 40)
    parameter = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    scheduler = make(optimizer)
    real = []
    for _ in range(40):
        real.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert fast == real


# ----------------------------------------------------------------------------- statistics
def _init_suite():
    return importlib.import_module("autograder.grading.suites.a1_activations_init.test_init")


@pytest.mark.parametrize("seed", range(10))
def test_init_checks_accept_torch_nn_init_at_many_seeds(seed):
    suite = _init_suite()
    generator = torch.Generator().manual_seed(seed)
    weight = torch.empty(suite.CONV, dtype=torch.float64)
    torch.nn.init.kaiming_uniform_(weight, nonlinearity="relu", generator=generator)
    suite._check_uniform(weight, math.sqrt(3) * suite._kaiming_std(suite.CONV,
                                                                    nonlinearity="relu"), "fill")
    torch.nn.init.xavier_normal_(weight, gain=2.0, generator=generator)
    std = suite._xavier_std(suite.CONV, 2.0)
    suite._check_normal_std(weight, std, "fill")
    suite._check_normal_shape(weight, std, "fill")


@pytest.mark.parametrize("factor", [0.97, 1.03])
def test_init_checks_reject_a_spread_three_percent_off(factor):
    suite = _init_suite()
    generator = torch.Generator().manual_seed(0)
    weight = torch.empty(suite.CONV, dtype=torch.float64)
    std = suite._xavier_std(suite.CONV, 1.0)
    weight.normal_(0, factor * std, generator=generator)
    with pytest.raises(AssertionError, match="standard deviation is too"):
        suite._check_normal_std(weight, std, "fill")
    weight.uniform_(-factor * math.sqrt(3) * std, factor * math.sqrt(3) * std,
                    generator=generator)
    with pytest.raises(AssertionError, match="uniform bound"):
        suite._check_uniform(weight, math.sqrt(3) * std, "fill")


def test_init_normality_check_rejects_a_uniform_fill_with_the_right_std():
    suite = _init_suite()
    std = 0.05
    weight = torch.empty(suite.CONV, dtype=torch.float64)
    weight.uniform_(-math.sqrt(3) * std, math.sqrt(3) * std,
                    generator=torch.Generator().manual_seed(0))
    with pytest.raises(AssertionError, match="not normally distributed"):
        suite._check_normal_shape(weight, std, "fill")


def test_bounds_hold_with_the_stated_probability():
    """Hoeffding and Laurent-Massart at delta = 1e-9, checked against their closed forms."""
    assert _checks.hoeffding_halfwidth(200, 1.0) == pytest.approx(
        math.sqrt(math.log(2e9) / 400))
    lo, hi = _checks.chi_square_mean_bounds(131072)
    assert 0.97 < lo < 1 < hi < 1.03
    # the empirical spread of chi2(n)/n is far inside the bounds
    samples = torch.randn(200, 4096, generator=torch.Generator().manual_seed(1),
                          dtype=torch.float64).pow(2).mean(dim=1)
    lo, hi = _checks.chi_square_mean_bounds(4096)
    assert bool(((samples > lo) & (samples < hi)).all())


# ----------------------------------------------------------------------------- helpers
def test_check_close_names_the_first_offending_element_only():
    x = torch.tensor([0.0, 1.0, -1e4], dtype=torch.float64)
    expected = torch.tensor([0.123456, 0.654321, 0.0], dtype=torch.float64)
    with pytest.raises(AssertionError) as wrong:
        _checks.check_close(expected + torch.tensor([0.0, 0.5, 0.0], dtype=torch.float64),
                            expected, "sigmoid", inputs=x)
    message = str(wrong.value)
    assert "sigmoid is wrong for 1 of 3 values" in message and "x = 1" in message
    assert "expected 0.654, got 1.15" in message and "0.123" not in message
    with pytest.raises(AssertionError, match="contains nan for 1 of 3 values, e.g. at x = -1e"):
        _checks.check_close(torch.tensor([0.123456, 0.654321, math.nan], dtype=torch.float64),
                            expected, "sigmoid", inputs=x)
    with pytest.raises(AssertionError, match="dtype torch.float64, expected torch.float32"):
        _checks.check_tensor(expected, "sigmoid", dtype=torch.float32)
    _checks.check_close(expected.float(), expected, "sigmoid", rtol=1e-6, atol=1e-7)


def _quoted_numbers(message: str) -> list[float]:
    import re

    return [float(text) for text in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", message)]


@pytest.mark.parametrize("rtol", [1e-9, 1e-7, 1e-4, 1e-3, 1e-2])
@pytest.mark.parametrize("expected", [0.0853553390593, -3.14159265358979, 123.456789012,
                                      7.13917286e-5])
def test_no_quoted_value_is_exact_enough_to_pass_the_check_it_comes_from(expected, rtol):
    # The replay attack of issue 14: copy the expected value a message quotes into a lookup
    # table.  Whatever the message quotes must itself fail the same check.
    atol = 0.0
    for check in (lambda v: _checks.check_number(v, expected, "warmup(t=5)", rtol=rtol,
                                                 atol=atol),
                  lambda v: _checks.check_scalar(v, expected, "warmup(t=5)", rtol=rtol,
                                                 atol=atol),
                  lambda v: _checks.check_close(torch.tensor([v], dtype=torch.float64),
                                                torch.tensor([expected], dtype=torch.float64),
                                                "gelu(x)", rtol=rtol, atol=atol)):
        with pytest.raises(AssertionError) as wrong:
            check(expected * 1.5)
        quoted = [v for v in _quoted_numbers(str(wrong.value)) if v != expected * 1.5]
        assert quoted, str(wrong.value)
        for value in quoted:
            if abs(value - expected) <= atol + rtol * abs(expected):
                raise AssertionError(f"the message quotes {value}, which passes: {wrong.value}")


def test_a_scalar_message_says_how_far_off_it_is_when_the_digits_look_equal():
    with pytest.raises(AssertionError) as wrong:
        _checks.check_number(0.08535534, 0.0853553390593, "warmup(t=5)", rtol=1e-9)
    assert "is 0.0853553, expected 0.0853553 (relative error 1.1e-08, allowed 1e-09)" \
        in str(wrong.value)


def test_as_number_accepts_numbers_and_one_element_tensors_only():
    assert _checks.as_number(2, "lr") == 2.0
    assert _checks.as_number(torch.tensor([0.5]), "lr") == 0.5
    with pytest.raises(AssertionError, match="one number, got a tensor of shape"):
        _checks.as_number(torch.ones(3), "lam")
    with pytest.raises(AssertionError, match="should be a number"):
        _checks.as_number("0.1", "lr")


def test_tensors_changed_compares_the_received_tensors_not_the_slots_that_held_them():
    buffer = torch.ones(3)
    before = {"momentum_buffer": buffer.clone(), "step": 1}
    # the received tensor untouched (the rule stored a new one under its key): not changed
    assert not _checks.tensors_changed(before, [buffer])
    assert not _checks.tensors_changed(before, {"momentum_buffer": buffer, "extra": 2})
    assert _checks.tensors_changed(before, [buffer * 2])  # the received object's bits changed
    assert _checks.tensors_changed((buffer.clone(),), [buffer[:2]])  # shape: resized in place
    nan = torch.tensor([float("nan"), 0.0])
    assert not _checks.tensors_changed([nan.clone()], [nan])  # nan is equal to itself
    assert _checks.tensors_changed([nan.clone()], [torch.tensor([float("nan"), -0.0])])
    with pytest.raises(ValueError):
        _checks.tensors_changed(before, [])


def test_pixel_box_of_a_mask():
    mask = torch.zeros(5, 6, dtype=torch.bool)
    assert _checks.pixel_box(mask) is None
    mask[1:3, 2:5] = True
    assert _checks.pixel_box(mask) == (1, 3, 2, 5)


def test_describe_call_summarises_tensors_and_shows_hyperparameters():
    x = torch.zeros(3, 4, dtype=torch.float16)
    text = _checks.describe_call("leaky_relu", (x,), {"negative_slope": 0.2}, ("x",))
    assert text == "leaky_relu(x: float16[3, 4], negative_slope=0.2)"


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_init_checks_reject_nan_and_inf(bad):
    suite = _init_suite()
    generator = torch.Generator().manual_seed(0)
    weight = torch.empty(suite.CONV, dtype=torch.float64).uniform_(-0.1, 0.1,
                                                                   generator=generator)
    weight[0, 0, 0, 0] = bad
    for check in (lambda: suite._check_uniform(weight, 0.1, "fill"),
                  lambda: suite._check_normal_std(weight, 0.1, "fill"),
                  lambda: suite._check_normal_shape(weight, 0.1, "fill")):
        with pytest.raises(AssertionError, match="nan or inf"):
            check()


def test_elementwise_half_tolerance_accepts_a_cancelling_formula():
    """1 - tanh(x)^2 computed in float16 is a valid tanh derivative (catalogue entry)."""
    x = torch.linspace(-6, 6, 241, dtype=torch.float16)
    t = torch.tanh(x)
    got = 1 - t * t
    expected = 1 - torch.tanh(x.double()) ** 2
    rtol, atol = _checks.ELEMENTWISE_TOLERANCE[torch.float16]
    _checks.check_close(got, expected, "tanh_backward", rtol=rtol, atol=atol)
    rtol, atol = _checks.ELEMENTWISE_TOLERANCE[torch.bfloat16]
    t = torch.tanh(x.to(torch.bfloat16))
    _checks.check_close(1 - t * t, 1 - torch.tanh(x.to(torch.bfloat16).double()) ** 2,
                        "tanh_backward", rtol=rtol, atol=atol)
