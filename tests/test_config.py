"""The one grading configuration: declared once, the same flags everywhere, CUDA refused
where there is none, and a resume key that goes stale when any of its inputs changes."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from autograder import config as grading_config
from autograder.batch import resume
from autograder.batch.pool import _record, stale_reasons_of, up_to_date
from autograder.commands import build_parser, main
from autograder.config import ConfigError, GradingConfig
from autograder.intake.submissions import Submission
from autograder.report.results import error_results
from autograder.sandbox.inside.limits import Limits
from autograder.spec import solution_path

A1 = "a1_activations_init"
COMMANDS_WITH_DEVICE = ("grade", "grade-batch", "check", "validate", "gradescope")


# ---------------------------------------------------------------------------- declared once
def test_every_command_takes_the_same_configuration_flags() -> None:
    parser = build_parser()
    actions = {name: {a.dest: a for a in sub._actions}
               for name, sub in parser._subparsers._group_actions[0].choices.items()}
    for name in COMMANDS_WITH_DEVICE:
        device = actions[name]["device"]
        assert tuple(device.choices) == grading_config.DEVICES and device.default == "auto", name
    for name in ("grade", "grade-batch", "check", "gradescope"):
        for flag in ("limit_call_timeout", "limit_total_timeout", "limit_memory_mb",
                     "limit_start_timeout", "isolation"):
            assert flag in actions[name], (name, flag)
            assert actions[name][flag].default == (
                getattr(Limits(), flag.removeprefix("limit_")) if flag.startswith("limit_")
                else GradingConfig().isolation)
    assert "jobs" in actions["grade-batch"] and "jobs" not in actions["grade"]


def test_flags_build_the_configuration_and_bad_values_are_refused() -> None:
    parser = argparse.ArgumentParser()
    grading_config.add_arguments(parser, batch=True)
    config = grading_config.from_args(parser.parse_args(
        ["--device", "cpu", "--timeout", "2.5", "--memory", "1024", "--jobs", "3"]))
    assert config == GradingConfig(device="cpu", jobs=3,
                                   limits=Limits(call_timeout=2.5, memory_mb=1024))
    for argv, match in ((["--timeout", "0"], "call_timeout"), (["--timeout", "nan"], "finite"),
                        (["--memory", "10"], "memory_mb"), (["--jobs", "0"], "--jobs")):
        with pytest.raises(ConfigError, match=match):
            grading_config.from_args(parser.parse_args(argv))


def test_the_configuration_survives_json_and_rejects_unknown_settings() -> None:
    config = GradingConfig(device="cpu", test_visibility="hidden",
                           limits=Limits(call_timeout=3.0, nproc=32))
    assert GradingConfig.from_json(config.to_json()) == config
    data = json.loads(config.to_json())
    data["timeout"] = 3
    with pytest.raises(ConfigError, match="unknown grading settings: timeout"):
        GradingConfig.from_json(json.dumps(data))
    with pytest.raises(ConfigError, match="--device"):
        GradingConfig(device="gpu")


def test_limits_cross_to_the_child_as_exactly_the_declared_fields() -> None:
    wire = Limits(memory_mb=512).to_wire()
    assert Limits.from_wire(wire) == Limits(memory_mb=512)
    with pytest.raises(ValueError, match="exactly the fields"):
        Limits.from_wire({**wire, "extra": 1})
    with pytest.raises(ValueError, match="exactly the fields"):
        Limits.from_wire({k: v for k, v in wire.items() if k != "nproc"})
    with pytest.raises(ValueError, match="whole number"):
        Limits.from_wire({**wire, "nproc": 1.5})


# ---------------------------------------------------------------------------- CUDA refusal
@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine has no GPU, whatever it really has."""
    monkeypatch.setattr(grading_config, "cuda_available", lambda: False)


def test_grade_refuses_cuda_without_a_gpu(no_cuda, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results.json"
    status = main(["grade", A1, str(solution_path(A1)), "--device", "cuda", "--out", str(out)])
    results = json.loads(out.read_text())
    assert status == 2 and results["score"] == 0 and results["extra_data"]["grader_failed"]
    assert "torch.cuda.is_available() is False" in results["output"]
    assert results["tests"] == []  # nothing was graded


def test_grade_batch_refuses_cuda_without_a_gpu(no_cuda, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "submitted" / "alice" / A1
    folder.mkdir(parents=True)
    shutil.copy(solution_path(A1), folder / f"{A1}.ipynb")
    out = tmp_path / "grades" / "grades.csv"
    status = main(["grade-batch", A1, str(tmp_path), "--device", "cuda", "--out", str(out),
                   "--no-progress"])
    assert status == 2 and "torch.cuda.is_available() is False" in capsys.readouterr().err
    assert not out.exists() and not (out.parent / "results").exists()


@pytest.mark.parametrize("argv", [["check", A1], ["validate", str(solution_path(A1))]])
def test_check_and_validate_refuse_cuda_without_a_gpu(no_cuda, argv: list[str], capsys) -> None:
    assert main([*argv, "--device", "cuda"]) == 2
    assert "torch.cuda.is_available() is False" in capsys.readouterr().out


def test_the_gradescope_build_refuses_cuda_gradescope_has_no_gpu(tmp_path: Path,
                                                                  capsys) -> None:
    assert main(["gradescope", A1, "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "Gradescope's autograder machines have no GPU" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_the_gradescope_runner_refuses_cuda_without_a_gpu(no_cuda, tmp_path: Path) -> None:
    from autograder.gradescope.build import config_text
    from autograder.gradescope.run import main as run_main

    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "source" / "gradescope.json").write_text(
        config_text(A1, GradingConfig(device="cuda")))
    shutil.copy(solution_path(A1), tmp_path / "submission" / f"{A1}.ipynb")
    assert run_main(["--root", str(tmp_path)]) == 2
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "torch.cuda.is_available() is False" in results["output"]


def test_device_problem_is_the_one_place_cuda_is_decided(monkeypatch) -> None:
    monkeypatch.setattr(grading_config, "cuda_available", lambda: True)
    assert grading_config.device_problem("cuda") is None
    monkeypatch.setattr(grading_config, "cuda_available", lambda: False)
    assert "cuda" in grading_config.device_problem("cuda")
    assert grading_config.device_problem("cpu") is None
    assert grading_config.device_problem("auto") is None


# ---------------------------------------------------------------------------- resume key
@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Submission, Path, GradingConfig]:
    """A stored result of one submission, written as the batch writes it."""
    folder = tmp_path / "submitted" / "alice" / A1
    folder.mkdir(parents=True)
    notebook = folder / f"{A1}.ipynb"
    shutil.copy(solution_path(A1), notebook)
    submission = Submission("alice", notebook)
    config = GradingConfig(device="cpu")
    results_dir = tmp_path / "results"
    _record(A1, submission, results_dir, config, error_results(A1, "stand-in result"))
    assert up_to_date(submission, results_dir, config)
    return submission, results_dir, config


def test_a_changed_notebook_is_regraded(recorded) -> None:
    submission, results_dir, config = recorded
    submission.path.write_text(submission.path.read_text() + " ")
    assert stale_reasons_of(submission, results_dir, config) == ["the submitted notebook changed"]


@pytest.mark.parametrize("change", [{"device": "auto"}, {"call_timeout": 7.0},
                                    {"total_timeout": 100.0}, {"memory_mb": 2048},
                                    {"visibility": "hidden"}, {"test_visibility": "hidden"},
                                    {"isolation": "none"}, {"audit": False}])
def test_a_changed_verdict_setting_is_regraded(recorded, change) -> None:
    submission, results_dir, config = recorded
    reasons = stale_reasons_of(submission, results_dir, config.replace(**change))
    assert len(reasons) == 1 and reasons[0].startswith("the grading configuration changed")


@pytest.mark.parametrize("change", [{"jobs": 7}, {"start_timeout": 30.0}])
def test_settings_that_cannot_change_a_grade_keep_the_result(recorded, change) -> None:
    submission, results_dir, config = recorded
    assert up_to_date(submission, results_dir, config.replace(**change))


def test_a_changed_suite_or_grader_is_regraded(recorded, monkeypatch) -> None:
    submission, results_dir, config = recorded
    monkeypatch.setattr(resume, "suite_digest", lambda assignment: "another suite")
    assert stale_reasons_of(submission, results_dir, config) == ["the hidden suite changed"]
    monkeypatch.undo()
    monkeypatch.setattr(resume, "grader_digest", lambda: "another grader")
    assert stale_reasons_of(submission, results_dir, config) == ["the grader changed"]


def test_the_digests_follow_the_files(tmp_path: Path, monkeypatch) -> None:
    suites = tmp_path / "autograder" / "grading" / "suites"
    (suites / A1).mkdir(parents=True)
    (suites / A1 / "test_x.py").write_text("x = 1\n")
    support = [tmp_path / "autograder" / "grading" / "checks.py"]
    support[0].write_text("y = 1\n")
    monkeypatch.setattr(resume, "PACKAGE_DIR", tmp_path / "autograder")
    monkeypatch.setattr(resume, "SUITES_DIR", suites)
    monkeypatch.setattr(resume, "SUITE_SUPPORT", tuple(support))
    before = resume.suite_digest.__wrapped__(A1)
    (suites / A1 / "test_x.py").write_text("x = 2\n")
    assert resume.suite_digest.__wrapped__(A1) != before
    grader_before = resume.grader_digest.__wrapped__()
    (tmp_path / "autograder" / "runner.py").write_text("z = 1\n")
    assert resume.grader_digest.__wrapped__() != grader_before
    (suites / A1 / "test_x.py").write_text("x = 3\n")  # a suite edit is not a grader edit
    assert resume.grader_digest.__wrapped__() == resume.grader_digest.__wrapped__()


def test_a_result_without_a_resume_key_is_regraded(recorded) -> None:
    submission, results_dir, config = recorded
    path = results_dir / "alice" / "results.json"
    results = json.loads(path.read_text())
    del results["extra_data"]["resume_key"]
    path.write_text(json.dumps(results))
    assert stale_reasons_of(submission, results_dir, config) == ["no resume key was recorded"]
