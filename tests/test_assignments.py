"""The assignment notebooks: structure, solutions and release.

Fast tests read the notebooks: the source notebooks are what the authoring
scripts build, their cells follow ``autograder/spec.py``, the released notebooks
hold stubs and no solution, no answer cell uses a forbidden name, and the
solutions keep every convention of COURSE.md's "Graded API" (compared with
PyTorch in float64).  Slow tests execute notebooks in a fresh kernel: every
solution notebook runs top to bottom without an error, and every released
notebook fails only with ``NotImplementedError`` and only in its test cells.
"""

from __future__ import annotations

import math
import re
import time

import nbformat
import pytest
import torch
import torch.nn.functional as F
from grader_helpers import find_cell, graded_cells, read_notebook

from autograder.commands.release import book_url, build_source, grading_markdown, notebook_text
from autograder.intake.cells import grade_id, nbgrader_metadata, select_answer_cells
from autograder.intake.static_check import static_check
from autograder.spec import (
    ASSIGNMENTS,
    IMPORTS_CELL_ID,
    TAMPERING_NAMES,
    get_assignment,
    release_path,
    solution_path,
)

NAMES = sorted(ASSIGNMENTS)
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def _load(assignment: str) -> dict:
    """Run the imports cell and the answer cells of a solution notebook in a fresh namespace."""
    spec = get_assignment(assignment)
    nb = read_notebook(solution_path(assignment))
    namespace: dict = {"__name__": f"solution_{assignment}"}
    for cell in graded_cells(nb, spec.name):
        exec(compile(cell.source, f"<{assignment}:{grade_id(cell)}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def a1() -> dict:
    return _load("a1_activations_init")


@pytest.fixture(scope="module")
def a2() -> dict:
    return _load("a2_regularization")


@pytest.fixture(scope="module")
def a3() -> dict:
    return _load("a3_optim_schedules")


def _raises_value_error(function, *args, **kwargs) -> bool:
    try:
        function(*args, **kwargs)
    except ValueError:
        return True
    return False


# ============================================================================ structure


@pytest.mark.parametrize("assignment", NAMES)
def test_source_notebook_is_what_the_authoring_script_builds(assignment: str) -> None:
    built = notebook_text(build_source(assignment))
    committed = solution_path(assignment).read_text(encoding="utf-8")
    assert committed == built, (
        f"{solution_path(assignment)} is stale: run `python -m autograder release`"
    )


@pytest.mark.parametrize("assignment", NAMES)
def test_cells_follow_the_spec(assignment: str) -> None:
    spec = get_assignment(assignment)
    for nb in (read_notebook(solution_path(assignment)), read_notebook(release_path(assignment))):
        nbformat.validate(nb)
        imports = find_cell(nb, IMPORTS_CELL_ID)
        assert imports is not None and imports.cell_type == "code"
        meta = nbgrader_metadata(imports)
        assert meta["locked"] and not meta["solution"] and not meta["grade"]
        graded = [cell for cell in nb.cells if nbgrader_metadata(cell).get("solution")
                  and cell.cell_type == "code"]
        assert [grade_id(cell) for cell in graded] == [part.name for part in spec.parts]
        for part in spec.parts:
            answer = find_cell(nb, part.name)
            index = nb.cells.index(answer)
            assert nb.cells.index(imports) < index
            test = nb.cells[index + 1]  # the visible test comes right after the answer
            meta = nbgrader_metadata(test)
            assert grade_id(test) == f"test_{part.name}" and test.cell_type == "code"
            assert meta["grade"] and meta["locked"] and not meta["solution"]
            assert meta["points"] == 0, "the points live in the hidden suite"


@pytest.mark.parametrize("assignment", NAMES)
def test_manual_questions_and_the_points_table(assignment: str) -> None:
    spec = get_assignment(assignment)
    nb = read_notebook(solution_path(assignment))
    manual = [cell for cell in nb.cells if cell.cell_type == "markdown"
              and nbgrader_metadata(cell).get("grade")]
    assert 1 <= len(manual) <= 2
    for cell in manual:
        meta = nbgrader_metadata(cell)
        assert meta["solution"] and meta["points"] > 0
    points = [(grade_id(cell), nbgrader_metadata(cell)["points"]) for cell in manual]
    grading = find_cell(nb, "grading").source
    assert grading == grading_markdown(spec, points)
    rows = re.findall(r"^\| `(\w+)` \| .* \| (\d+) \|$", grading, re.MULTILINE)
    assert rows == [(part.name, str(part.points)) for part in spec.parts]
    assert sum(int(p) for _, p in rows) == spec.total_points == 100
    for name in spec.forbidden:  # the tampering tools are named as a kind, in words
        if name not in TAMPERING_NAMES:
            assert f"`{name}`" in grading
    intro = find_cell(nb, "intro").source
    for chapter in {part.chapter for part in spec.parts}:  # linked into the published book
        assert f"]({book_url()}book/{chapter}.html)" in intro
        assert f"book/{chapter}.md" not in intro


@pytest.mark.parametrize("assignment", NAMES)
def test_no_forbidden_name_in_the_graded_cells(assignment: str) -> None:
    spec = get_assignment(assignment)
    for path in (solution_path(assignment), release_path(assignment)):
        cells = [(grade_id(cell) or "?", cell.source)
                 for cell in graded_cells(read_notebook(path), spec.name)]
        report = static_check(cells, spec.forbidden, spec.forbidden_tensor_methods)
        found = report.summary([part.name for part in spec.parts])
        found += [f.describe() for f in report.loose]
        found += [f.describe() for owner, fs in report.direct.items() for f in fs]
        assert not found, f"{path.name}: {found}"


@pytest.mark.parametrize("assignment", NAMES)
def test_release_holds_stubs_and_no_solution(assignment: str) -> None:
    spec = get_assignment(assignment)
    source = read_notebook(solution_path(assignment))
    released = read_notebook(release_path(assignment))
    released_text = release_path(assignment).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in released_text and "END SOLUTION" not in released_text
    for part in spec.parts:
        stub = find_cell(released, part.name).source
        assert "raise NotImplementedError()" in stub
        solution = find_cell(source, part.name).source
        for region in SOLUTION_REGION.findall(solution):
            for line in region.splitlines():
                if len(line.strip()) > 25:  # a distinctive line of the solution
                    assert line.strip() not in released_text, f"{part.name} leaks: {line}"
    for cell in released.cells:
        meta = nbgrader_metadata(cell)
        if cell.cell_type == "markdown" and meta.get("solution"):
            assert cell.source.strip() == "YOUR ANSWER HERE"
        if meta.get("grade") and cell.cell_type == "code":  # visible tests travel unchanged
            assert cell.source == find_cell(source, grade_id(cell)).source


def test_answer_cells_fall_back_to_the_defining_cell() -> None:
    nb = read_notebook(solution_path("a3_optim_schedules"))
    cell = find_cell(nb, "adam")
    cell.metadata = {}  # a student copied the cell and lost nbgrader's metadata
    found = select_answer_cells(nb.cells, get_assignment("a3_optim_schedules"))
    assert nb.cells[found["adam"].index] is cell and found["adam"].how == "definition"
    assert found["adagrad"].how == "metadata"


# ============================================================================ a1 solution

ACTIVATIONS = {  # name -> (ours(ns, x), torch's)
    "sigmoid": (lambda ns, x: ns["sigmoid"](x), torch.sigmoid),
    "tanh": (lambda ns, x: ns["tanh"](x), torch.tanh),
    "relu": (lambda ns, x: ns["relu"](x), F.relu),
    "leaky_relu": (lambda ns, x: ns["leaky_relu"](x), F.leaky_relu),
    "leaky_relu_0.2": (lambda ns, x: ns["leaky_relu"](x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (lambda ns, x: ns["elu"](x), F.elu),
    "elu_2": (lambda ns, x: ns["elu"](x, alpha=2.0), lambda x: F.elu(x, alpha=2.0)),
    "selu": (lambda ns, x: ns["selu"](x), F.selu),
    "gelu": (lambda ns, x: ns["gelu"](x), F.gelu),
    "gelu_tanh": (lambda ns, x: ns["gelu"](x, "tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "gelu_sigmoid": (lambda ns, x: ns["gelu"](x, "sigmoid"),
                     lambda x: x * torch.sigmoid(1.702 * x)),
    "silu": (lambda ns, x: ns["silu"](x), F.silu),
}
EXTREMES = [-1e4, -1e3, -100.0, -30.0, -1e-8, -0.0, 0.0, 1e-8, 30.0, 100.0, 1e3, 1e4]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_a1_activation_matches_torch_in_float64(a1: dict, name: str) -> None:
    ours, theirs = ACTIVATIONS[name]
    x = torch.cat([torch.linspace(-40, 40, 4001, dtype=torch.float64),
                   torch.tensor(EXTREMES, dtype=torch.float64)])
    before = x.clone()
    torch.testing.assert_close(ours(a1, x), theirs(x), rtol=1e-12, atol=1e-15)
    assert torch.equal(x, before)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_a1_activation_keeps_dtype_and_device_and_stays_finite(
    a1: dict, name: str, dtype: torch.dtype, device: torch.device
) -> None:
    ours, theirs = ACTIVATIONS[name]
    x = torch.tensor(EXTREMES, dtype=dtype, device=device).reshape(3, 4)
    out = ours(a1, x)
    assert out.dtype == dtype and out.device == x.device and out.shape == x.shape
    assert torch.isfinite(out).all(), out
    expected = theirs(x.double()).to(dtype)
    torch.testing.assert_close(out, expected, rtol=1e-2, atol=1e-2)


BACKWARDS = {  # name -> (ours(ns, g, x), the forward to differentiate)
    "sigmoid": (lambda ns, g, x: ns["sigmoid_backward"](g, x), torch.sigmoid),
    "tanh": (lambda ns, g, x: ns["tanh_backward"](g, x), torch.tanh),
    "relu": (lambda ns, g, x: ns["relu_backward"](g, x), F.relu),
    "leaky_relu": (lambda ns, g, x: ns["leaky_relu_backward"](g, x), F.leaky_relu),
    "leaky_relu_0.3": (lambda ns, g, x: ns["leaky_relu_backward"](g, x, 0.3),
                       lambda x: F.leaky_relu(x, 0.3)),
    "elu": (lambda ns, g, x: ns["elu_backward"](g, x), F.elu),
    "elu_2": (lambda ns, g, x: ns["elu_backward"](g, x, alpha=2.0), lambda x: F.elu(x, 2.0)),
    "gelu": (lambda ns, g, x: ns["gelu_backward"](g, x), F.gelu),
}


@pytest.mark.parametrize("name", BACKWARDS)
def test_a1_backward_matches_autograd_including_zero(a1: dict, name: str) -> None:
    ours, forward = BACKWARDS[name]
    x = torch.cat([torch.linspace(-30, 30, 3001, dtype=torch.float64),
                   torch.tensor(EXTREMES, dtype=torch.float64)])
    grad_out = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x_leaf = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(forward(x_leaf), x_leaf, grad_out)
    before = (x.clone(), grad_out.clone())
    got = ours(a1, grad_out, x)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-15)
    assert torch.equal(x, before[0]) and torch.equal(grad_out, before[1])
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (at_zero,) = torch.autograd.grad(forward(zero), zero, torch.ones(1, dtype=torch.float64))
    assert ours(a1, torch.ones(1, dtype=torch.float64), zero.detach()).item() == at_zero.item()
    extreme = torch.tensor([-1e4, 1e4], dtype=torch.float32)
    assert torch.isfinite(ours(a1, torch.ones(2), extreme)).all()


def test_a1_gelu_rejects_unknown_approximation(a1: dict) -> None:
    assert _raises_value_error(a1["gelu"], torch.zeros(2), approximate="erf")


@pytest.mark.parametrize("shape", [(7, 5), (16, 3, 3, 3), (4, 6, 2), (5, 8, 1, 2, 3)])
def test_a1_fans_and_gains_match_torch(a1: dict, shape: tuple[int, ...]) -> None:
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert a1["calculate_fan_in_and_fan_out"](shape) == expected
    assert a1["calculate_fan_in_and_fan_out"](torch.Size(shape)) == expected
    for name, param in [("linear", None), ("conv3d", None), ("conv_transpose2d", None),
                        ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3)]:
        assert math.isclose(a1["calculate_gain"](name, param),
                            torch.nn.init.calculate_gain(name, param), rel_tol=1e-15)


def test_a1_init_functions_reject_bad_arguments(a1: dict) -> None:
    assert _raises_value_error(a1["calculate_fan_in_and_fan_out"], (5,))
    assert _raises_value_error(a1["calculate_fan_in_and_fan_out"], ())
    assert _raises_value_error(a1["calculate_gain"], "softmax")
    assert _raises_value_error(a1["calculate_gain"], "leaky_relu", True)
    assert _raises_value_error(a1["calculate_gain"], "leaky_relu", "0.1")
    for init in ("kaiming_uniform_", "kaiming_normal_"):
        assert _raises_value_error(a1[init], torch.empty(3, 4), mode="fan_avg")
        assert _raises_value_error(a1[init], torch.empty(3, 4), nonlinearity="softmax")
    for init in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"):
        assert _raises_value_error(a1[init], torch.empty(5))


INITS = [
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.5}),
    ("xavier_normal_", {}), ("xavier_normal_", {"gain": 5 / 3}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_uniform_", {"nonlinearity": "relu", "mode": "FAN_IN"}),
    ("kaiming_normal_", {}), ("kaiming_normal_", {"nonlinearity": "tanh", "mode": "fan_out"}),
]


@pytest.mark.parametrize(("name", "kwargs"), INITS)
def test_a1_init_fills_in_place_like_torch(a1: dict, name: str, kwargs: dict,
                                           device: torch.device) -> None:
    for shape, dtype in [((30, 20), torch.float32), ((8, 4, 3, 3), torch.float64)]:
        ours = torch.zeros(shape, dtype=dtype, device=device, requires_grad=True)
        theirs = torch.zeros(shape, dtype=dtype, device=device, requires_grad=True)
        gen_ours = torch.Generator(device=device).manual_seed(3)
        gen_theirs = torch.Generator(device=device).manual_seed(3)
        returned = a1[name](ours, generator=gen_ours, **kwargs)
        getattr(torch.nn.init, name)(theirs, generator=gen_theirs, **kwargs)
        assert returned is ours and ours.grad_fn is None and ours.requires_grad
        assert torch.equal(ours, theirs), "the same draws as torch.nn.init"
    empty = torch.empty(0, 3)
    if name.startswith("kaiming"):
        assert a1[name](empty) is empty  # nothing to fill, as torch


# ============================================================================ a2 solution


def test_a2_dropout_conventions(a2: dict, device: torch.device) -> None:
    dropout = a2["dropout"]
    x = torch.randn(400, 500, dtype=torch.float64, device=device)
    before = x.clone()
    generator = torch.Generator(device=device).manual_seed(0)
    out = dropout(x, p=0.3, generator=generator)
    assert out.dtype == x.dtype and out.device == x.device and torch.equal(x, before)
    kept = out != 0
    assert abs(kept.double().mean().item() - 0.7) < 0.005
    torch.testing.assert_close(out[kept], x[kept] / 0.7, rtol=1e-15, atol=0)
    assert dropout(x, 0.3, training=False) is x and dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    again = dropout(x, 0.3, generator=torch.Generator(device=device).manual_seed(0))
    assert torch.equal(again, out), "the same generator state gives the same mask"
    torch.manual_seed(5)
    first = dropout(x, 0.5)
    torch.manual_seed(5)
    assert torch.equal(dropout(x, 0.5), first), "without a generator: the global RNG"
    for p in (-0.01, 1.01, float("nan")):
        assert _raises_value_error(dropout, x, p)
    half = torch.ones(1000, dtype=torch.float16, device=device)
    assert dropout(half, 0.5).dtype == torch.float16


def test_a2_dropout_module(a2: dict) -> None:
    layer = a2["Dropout"](0.4)
    assert isinstance(layer, torch.nn.Module) and layer.p == 0.4 and "p=0.4" in repr(layer)
    assert list(layer.state_dict()) == []
    x = torch.ones(200, 300)
    torch.manual_seed(0)
    assert abs((layer(x) == 0).float().mean().item() - 0.4) < 0.01
    layer.eval()
    assert torch.equal(layer(x), x)
    assert _raises_value_error(a2["Dropout"], -0.5)


def _recover_partners(x: torch.Tensor, mixed: torch.Tensor, lam: float) -> torch.Tensor:
    """The j with mixed[i] = lam x[i] + (1 - lam) x[j], for rows of distinct x."""
    rows = (mixed - lam * x).flatten(1) / (1 - lam)
    distances = torch.cdist(rows.double(), x.flatten(1).double())
    assert distances.min(1).values.max() < 1e-6
    return distances.argmin(1)


def test_a2_mixup_conventions(a2: dict, device: torch.device) -> None:
    mixup = a2["mixup"]
    x = torch.randn(32, 3, 5, 5, dtype=torch.float64, device=device)
    y = torch.randint(0, 7, (32,), device=device)
    before = (x.clone(), y.clone())
    make = lambda seed: torch.Generator(device=device).manual_seed(seed)  # noqa: E731
    mixed, soft, lam = mixup(x, y, 7, alpha=1.0, generator=make(0))
    assert torch.equal(x, before[0]) and torch.equal(y, before[1])
    assert isinstance(lam, float) and 0 < lam < 1
    assert mixed.dtype == soft.dtype == x.dtype and soft.device == x.device
    partners = _recover_partners(x, mixed, lam)
    assert sorted(partners.tolist()) == list(range(32))
    eye = torch.eye(7, dtype=torch.float64, device=device)
    torch.testing.assert_close(soft, lam * eye[y] + (1 - lam) * eye[y[partners]])
    again = mixup(x, y, 7, alpha=1.0, generator=make(0))
    assert again[2] == lam and torch.equal(again[0], mixed)
    for alpha in (0.0, -1.0):
        same, soft_same, one = mixup(x, y, 7, alpha=alpha)
        assert one == 1.0 and torch.equal(same, x) and torch.equal(soft_same, eye[y])
    assert mixup(x.float(), y, 7)[1].dtype == torch.float32
    assert _raises_value_error(mixup, x, y[:5], 7)
    assert _raises_value_error(mixup, x, y + 7, 7)


def test_a2_mixup_lambda_follows_beta(a2: dict) -> None:
    from scipy import stats

    x, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    generator = torch.Generator().manual_seed(0)
    for alpha in (0.2, 1.0, 4.0):
        draws = [a2["mixup"](x, y, 2, alpha=alpha, generator=generator)[2] for _ in range(400)]
        assert stats.kstest(draws, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


def test_a2_cutmix_conventions(a2: dict, device: torch.device) -> None:
    cutmix = a2["cutmix"]
    n, height, width = 10, 13, 17
    x = torch.arange(1, n + 1, dtype=torch.float32, device=device).view(n, 1, 1, 1)
    x = x.expand(n, 2, height, width).contiguous()
    y = torch.arange(n, device=device) % 3
    for seed in range(30):
        generator = torch.Generator(device=device).manual_seed(seed)
        mixed, soft, lam = cutmix(x, y, 3, alpha=1.0, generator=generator)
        changed = (mixed != x).any(1)
        boxes = {tuple(changed[i].nonzero().amin(0).tolist() + changed[i].nonzero().amax(0)
                       .tolist()) for i in range(n) if changed[i].any()}
        assert len(boxes) <= 1, "one box for the whole batch"
        area = max((int(changed[i].sum()) for i in range(n)), default=0)
        assert math.isclose(lam, 1 - area / (height * width), abs_tol=1e-12)
        partners = torch.tensor([int(mixed[i, 0][changed[i]][0]) - 1 if changed[i].any() else i
                                 for i in range(n)], device=device)
        eye = torch.eye(3, device=device)
        torch.testing.assert_close(soft, lam * eye[y] + (1 - lam) * eye[y[partners]])
    same, _, one = cutmix(x, y, 3, alpha=0.0)
    assert one == 1.0 and torch.equal(same, x)
    assert _raises_value_error(cutmix, x[0], y, 3)


def test_a2_cutout_conventions(a2: dict, device: torch.device) -> None:
    cutout = a2["cutout"]
    x = torch.rand(64, 3, 9, 11, device=device) + 1
    generator = torch.Generator(device=device).manual_seed(0)
    for size in (1, 4, 5, 20):
        out = cutout(x, size, generator=generator)
        zero = out == 0
        assert torch.equal(zero, zero[:, :1].expand_as(zero))
        for i in range(64):
            rows, cols = zero[i, 0].any(1).nonzero(), zero[i, 0].any(0).nonzero()
            h, w = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
            assert int(zero[i, 0].sum()) == h * w
            half = math.ceil(size / 2)  # the centre is inside the image
            assert min(half, 9) <= h <= min(size, 9) and min(half, 11) <= w <= min(size, 11)
    assert torch.equal(cutout(x, 0), x)
    assert cutout(x[0], 3).shape == x[0].shape
    for bad in (-1, 2.5, True):
        assert _raises_value_error(cutout, x, bad)
    # size 1 zeroes exactly the centre: every pixel equally likely
    centres = (cutout(torch.ones(20_000, 1, 4, 4), 1, generator=torch.Generator()
                      .manual_seed(1)) == 0).sum(0).flatten().double()
    assert centres.sum() == 20_000 and (centres - 1250).abs().max() < 200


def test_a2_label_smoothing(a2: dict) -> None:
    y = torch.tensor([2, 0, 1])
    target = a2["label_smoothing"](y, 4, 0.2)
    assert target.dtype == torch.get_default_dtype()
    torch.testing.assert_close(target, 0.8 * torch.eye(4)[y] + 0.05)
    assert _raises_value_error(a2["label_smoothing"], y, 4, -0.1)
    assert _raises_value_error(a2["label_smoothing"], y, 2, 0.1)


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3, 1.0])
def test_a2_smoothed_cross_entropy_matches_torch(a2: dict, eps: float) -> None:
    loss = a2["smoothed_cross_entropy"]
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(12, 5, dtype=torch.float64, generator=generator)
    y = torch.randint(0, 5, (12,), generator=generator)
    soft = torch.softmax(torch.randn(12, 5, dtype=torch.float64, generator=generator), 1)
    for scale in (1.0, 1e4):
        for target in (y, soft):
            expected = F.cross_entropy(logits * scale, target, label_smoothing=eps)
            got = loss(logits * scale, target, eps)
            torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    spatial = torch.randn(3, 5, 4, 2, dtype=torch.float64, generator=generator)
    labels = torch.randint(0, 5, (3, 4, 2), generator=generator)
    torch.testing.assert_close(loss(spatial, labels, eps),
                               F.cross_entropy(spatial, labels, label_smoothing=eps))
    assert loss(logits.float(), y, eps).dtype == torch.float32


def test_a2_smoothed_cross_entropy_rejects_bad_arguments(a2: dict) -> None:
    logits, y = torch.randn(3, 4), torch.tensor([0, 3, 1])
    assert _raises_value_error(a2["smoothed_cross_entropy"], logits, y, 1.5)
    assert _raises_value_error(a2["smoothed_cross_entropy"], logits, y + 2)
    assert _raises_value_error(a2["smoothed_cross_entropy"], logits, torch.rand(3, 5))


# ============================================================================ a3 solution


def _torch_lrs(make_scheduler, steps: int, base_lr: float) -> list[float]:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


S = torch.optim.lr_scheduler
SCHEDULES = [  # (ours(ns, t), torch's scheduler factory, steps)
    (lambda ns, t: ns["step_lr"](t, 0.3, 4, 0.5), lambda o: S.StepLR(o, 4, 0.5), 30),
    (lambda ns, t: ns["multistep_lr"](t, 0.3, [3, 8, 8, 20], 0.2),
     lambda o: S.MultiStepLR(o, [3, 8, 8, 20], 0.2), 30),
    (lambda ns, t: ns["cosine_lr"](t, 0.3, 17), lambda o: S.CosineAnnealingLR(o, 17), 18),
    (lambda ns, t: ns["cosine_lr"](t, 0.3, 9, 0.05),
     lambda o: S.CosineAnnealingLR(o, 9, 0.05), 10),
    (lambda ns, t: ns["linear_lr"](t, 0.3, 12, 0.06),
     lambda o: S.LinearLR(o, 1.0, 0.2, total_iters=12), 30),
    (lambda ns, t: ns["cosine_restarts_lr"](t, 0.3, 7),
     lambda o: S.CosineAnnealingWarmRestarts(o, 7), 50),
    (lambda ns, t: ns["cosine_restarts_lr"](t, 0.3, 2, 3, 0.01),
     lambda o: S.CosineAnnealingWarmRestarts(o, 2, 3, 0.01), 90),
    (lambda ns, t: ns["warmup"](lambda s: ns["step_lr"](s, 0.3, 5, 0.5), 6, 0.25)(t),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.25, total_iters=6), S.StepLR(o, 5, 0.5)],
                              milestones=[6]), 40),
    (lambda ns, t: ns["warmup"](lambda s: ns["cosine_lr"](s, 0.3, 20), 3, 1.0)(t),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, 1.0, total_iters=3),
                                  S.CosineAnnealingLR(o, 20)], milestones=[3]), 23),
]


@pytest.mark.parametrize("index", range(len(SCHEDULES)))
def test_a3_schedule_matches_torch_step_by_step(a3: dict, index: int) -> None:
    ours, make, steps = SCHEDULES[index]
    expected = _torch_lrs(make, steps, 0.3)
    got = [ours(a3, t) for t in range(steps)]
    assert all(isinstance(lr, float) for lr in got)
    for t, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), f"step {t}: {a} != {b}"


def test_a3_closed_form_schedules(a3: dict) -> None:
    assert a3["cosine_lr"](50, 0.3, 17, 0.01) == 0.01
    assert a3["linear_lr"](50, 0.3, 12, 0.02) == 0.02
    for t in range(40):
        s = t + 1
        assert math.isclose(a3["inverse_sqrt_lr"](t, 2.0, 8), 2.0 * min(s / 8, math.sqrt(8 / s)))
    assert a3["warmup"](lambda t: 0.5, 0)(0) == 0.5
    assert a3["warmup"](lambda t: 0.5, 4)(2) == 0.25
    assert math.isclose(a3["linear_scaling_rule"](0.1, 1024), 0.4)


def test_a3_schedules_reject_bad_arguments(a3: dict) -> None:
    bad = [("step_lr", (-1, 0.1, 3)), ("step_lr", (0, 0.1, 0)), ("cosine_lr", (0, 0.1, 0)),
           ("linear_lr", (0, 0.1, -2)), ("inverse_sqrt_lr", (0, 0.1, 0)),
           ("cosine_restarts_lr", (0, 0.1, 0)), ("cosine_restarts_lr", (0, 0.1, 5, 0)),
           ("cosine_restarts_lr", (0, 0.1, 5, 1.5)), ("warmup", (lambda t: 1.0, -1)),
           ("warmup", (lambda t: 1.0, 3, 1.5)), ("linear_scaling_rule", (0.1, 0)),
           ("multistep_lr", (-3, 0.1, [2]))]
    for name, args in bad:
        assert _raises_value_error(a3[name], *args), (name, args)


OPTIMISERS = [  # (rule, torch class, rule kwargs, torch kwargs)
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.1, "momentum": 0.0}, None),
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}),
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}, None),
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.05, "nesterov": True, "weight_decay": 0.01},
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adagrad", torch.optim.Adagrad, {}, None),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.3, "eps": 1e-5}, None),
    ("rmsprop", torch.optim.RMSprop, {}, None),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.03, "alpha": 0.8, "eps": 1e-4}, None),
    ("adam", torch.optim.Adam, {}, None),
    ("adam", torch.optim.Adam, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-5,
                                "weight_decay": 0.2}, None),
    ("adam", torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.2, "decoupled": True},
     {"lr": 0.05, "weight_decay": 0.2}),
    ("adam", torch.optim.AdamW, {"lr": 0.01, "betas": (0.0, 0.99), "decoupled": True},
     {"lr": 0.01, "betas": (0.0, 0.99), "weight_decay": 0.0}),
]


@pytest.mark.parametrize("index", range(len(OPTIMISERS)))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a3_optimiser_matches_torch_and_modifies_nothing(
    a3: dict, index: int, dtype: torch.dtype, device: torch.device
) -> None:
    name, optimizer_class, hyper, torch_hyper = OPTIMISERS[index]
    generator = torch.Generator().manual_seed(index)
    w0 = torch.randn(4, 3, dtype=dtype, generator=generator).to(device)
    grads = torch.randn(10, 4, 3, dtype=dtype, generator=generator).to(device)
    param = w0.clone().requires_grad_()
    optimizer = optimizer_class([param], **(torch_hyper or hyper))
    w, state = w0.clone(), {}
    tolerance = {"rtol": 1e-12, "atol": 1e-14} if dtype == torch.float64 else {}
    for grad in grads:
        snapshot = (w.clone(), grad.clone(), {k: v.clone() if torch.is_tensor(v) else v
                                              for k, v in state.items()})
        w_next, new_state = a3[name](w, grad, state, **hyper)
        assert torch.equal(w, snapshot[0]) and torch.equal(grad, snapshot[1])
        for key, value in snapshot[2].items():
            assert (torch.equal(state[key], value) if torch.is_tensor(value)
                    else state[key] == value), f"the state's {key!r} was modified"
        param.grad = grad.clone()
        optimizer.step()
        assert w_next.dtype == dtype and w_next.device == w0.device
        torch.testing.assert_close(w_next, param.detach(), **tolerance)
        expected_keys = {k for k, v in optimizer.state[param].items()}
        assert expected_keys <= set(new_state), (expected_keys, set(new_state))
        w, state = w_next, new_state
    assert a3[name](w0, grads[0], None, **hyper)[0].shape == w0.shape  # state None: first step


def test_a3_optimisers_reject_bad_hyperparameters(a3: dict) -> None:
    w = torch.zeros(3)
    bad = [("sgd_momentum", {"lr": -0.1}), ("sgd_momentum", {"lr": 0.1, "momentum": -0.5}),
           ("sgd_momentum", {"lr": 0.1, "momentum": 0.0, "nesterov": True}),
           ("sgd_momentum", {"lr": 0.1, "weight_decay": -1.0}), ("adagrad", {"lr": -1.0}),
           ("adagrad", {"eps": -1.0}), ("rmsprop", {"alpha": -0.1}), ("rmsprop", {"lr": -1.0}),
           ("adam", {"betas": (1.0, 0.9)}), ("adam", {"betas": (0.9, -0.1)}),
           ("adam", {"eps": -1e-8}), ("adam", {"weight_decay": -0.1})]
    for name, hyper in bad:
        assert _raises_value_error(a3[name], w, w, {}, **hyper), (name, hyper)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_a3_clip_grad_norm_matches_torch(a3: dict, norm_type, max_norm: float,
                                         device: torch.device) -> None:
    generator = torch.Generator().manual_seed(0)
    grads = [torch.randn(shape, dtype=torch.float64, generator=generator).to(device)
             for shape in ((3, 4), (7,), (2, 1, 3))]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    ids = [id(g) for g in grads]
    total = a3["clip_grad_norm"](grads, max_norm, norm_type)
    torch.testing.assert_close(total, expected, rtol=1e-14, atol=0)
    assert [id(g) for g in grads] == ids
    for p, g in zip(params, grads, strict=True):
        torch.testing.assert_close(g, p.grad, rtol=1e-14, atol=0)
    single = torch.full((4,), 3.0, dtype=torch.float64)
    assert float(a3["clip_grad_norm"](single, 1.0)) == 6.0 and abs(single.norm() - 1) < 1e-5
    assert float(a3["clip_grad_norm"]([], 1.0)) == 0.0


# ============================================================================ execution


def _execute(nb, cwd, allow_errors: bool):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=300, allow_errors=allow_errors, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def _errors(nb) -> list[tuple[str | None, str]]:
    """(grade_id, error name) of every cell that ended in an error."""
    return [(grade_id(cell), output.ename) for cell in nb.cells if cell.cell_type == "code"
            for output in cell.outputs if output.output_type == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", NAMES)
def test_solution_notebook_runs_top_to_bottom(assignment: str, tmp_path) -> None:
    nb = read_notebook(solution_path(assignment))
    seconds = _execute(nb, tmp_path, allow_errors=False)
    print(f"{assignment}: solution notebook executed in {seconds:.1f} s")
    for part in get_assignment(assignment).parts:
        test = find_cell(nb, f"test_{part.name}")
        streams = [o for o in test.outputs if o.output_type == "stream"]
        assert all(o.name == "stdout" for o in streams), "nbgrader fails a test cell on stderr"
        assert "visible tests passed" in "".join(o.text for o in streams)
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                  for o in c.outputs)
    assert figures >= 2, "the plot cells make figures"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", NAMES)
def test_released_notebook_fails_only_with_not_implemented(assignment: str, tmp_path) -> None:
    nb = read_notebook(release_path(assignment))
    seconds = _execute(nb, tmp_path, allow_errors=True)
    print(f"{assignment}: released notebook executed in {seconds:.1f} s")
    expected = [(f"test_{part.name}", "NotImplementedError")
                for part in get_assignment(assignment).parts]
    assert _errors(nb) == expected


# ============================================================================ a1 self-check
def _a1_cells(kind: str) -> list:
    nb = read_notebook(solution_path("a1_activations_init"))
    return [cell for cell in nb.cells if (grade_id(cell) or "").startswith(kind)]


def test_a1_visible_tests_leave_no_name_in_the_students_namespace() -> None:
    """Each test cell defines one private function, runs it and deletes it: no `F`, no `x`."""
    import ast

    cells = _a1_cells("test_")
    assert len(cells) == len(get_assignment("a1_activations_init").parts)
    for cell in cells:
        body = ast.parse(cell.source).body
        kinds = [type(node).__name__ for node in body]
        assert kinds == ["FunctionDef", "Expr", "Delete"], (grade_id(cell), kinds)
        assert body[0].name == "_visible_test" and ast.unparse(body[2]) == "del _visible_test"
        first = ast.unparse(body[0].body[0])
        assert first.startswith("_check_allowed("), f"{grade_id(cell)} starts with {first}"
        for node in ast.walk(body[0]):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"{grade_id(cell)}: {ast.unparse(node)} has no message"


def _a1_namespace(code: str) -> dict:
    """The imports cell and ``code`` run as cells of a kernel whose history (`In`) holds both."""
    from types import SimpleNamespace

    from autograder import spec as spec_module

    imports = find_cell(read_notebook(solution_path("a1_activations_init")), "imports").source
    shell = SimpleNamespace(user_ns={"In": ["", imports, code]})
    namespace: dict = {"__name__": "__main__", "get_ipython": lambda: shell}
    exec(compile(imports, "<imports>", "exec"), namespace)
    exec(compile(code, "<cell>", "exec"), namespace)
    specific = set(ASSIGNMENTS["a1_activations_init"].forbidden) - set(
        spec_module._ALWAYS_FORBIDDEN)
    assert specific <= set(namespace["_FORBIDDEN"]), "the notebook's list is the spec's"
    assert set(namespace["_FORBIDDEN_METHODS"]) == set(
        ASSIGNMENTS["a1_activations_init"].forbidden_tensor_methods)
    return namespace


def test_a1_visible_forbidden_check_agrees_with_the_grader() -> None:
    code = (
        "import torch.nn.functional as F\n"
        "from torch import sigmoid as s\n\n\n"
        "def sigmoid(x):\n    z = torch.exp(-x.abs())\n"
        "    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))\n\n\n"
        "def silu(x):\n    return x * sigmoid(x)\n\n\n"
        "def _helper(x):\n    return F.relu(x)\n\n\n"
        "def relu(x):\n    return _helper(x)\n\n\n"
        "def tanh(x):\n    return 2 * s(2 * x) - 1\n\n\n"
        "def elu(x, alpha=1.0):\n    return x.sigmoid()\n\n\n"
        "def selu(x):\n    return torch.nn.SELU()(x)\n"
    )
    namespace = _a1_namespace(code)
    check = namespace["_check_allowed"]
    check("sigmoid")
    check("silu")  # the student's own sigmoid is allowed
    for name, shown in [("relu", "torch.nn.functional.relu"), ("tanh", "torch.sigmoid"),
                        ("elu", ".sigmoid()"), ("selu", "torch.nn.SELU")]:
        with pytest.raises(AssertionError, match="forbids") as failed:
            check(name)
        assert shown in str(failed.value) and "scores its tests 0" in str(failed.value)
