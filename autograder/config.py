"""The one grading configuration: every knob that changes how a submission is graded.

Each setting is declared once, here (or, for the sandbox's resource limits, once in
:class:`~autograder.sandbox.inside.limits.Limits`), with its default, its help text
and its validation.  Every command (``grade``, ``grade-batch``, ``check``,
``validate``, ``gradescope``) builds its flags from these declarations with
:func:`add_arguments` and its configuration with :func:`from_args`; the
Gradescope zip carries the same configuration as JSON (:meth:`GradingConfig.to_json`)
and its runner reads it back with :meth:`GradingConfig.from_json`.

Whether CUDA can be used is decided in one place, :func:`device_problem`: asking
for ``cuda`` where torch sees no GPU is an error of every command, never a silent
grade.  :meth:`GradingConfig.verdict_key` is the part of the configuration that
can change a verdict; the batch's resume key includes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

from autograder.sandbox.inside.limits import Limits

DEVICES = ("auto", "cpu", "cuda")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# "auto": every layer this machine offers; "none": no namespaces (tests of one layer alone).
ISOLATIONS = ("auto", "none")


class ConfigError(ValueError):
    """A grading setting with a value the grader cannot use (the message names the flag)."""


def _setting(default: Any, help: str, *, flag: str, choices: tuple[str, ...] | None = None,
             verdict: bool = True, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag, "choices": choices,
                                            "verdict": verdict, "metavar": metavar})


@dataclass(frozen=True)
class GradingConfig:
    """How to grade: where the suites run, what the student sees, the sandbox's limits."""

    device: str = _setting(
        "auto", "where device-parametrized tests run: auto (cpu, plus cuda when available), "
        "cpu, or cuda (an error without a GPU)", flag="--device", choices=DEVICES)
    visibility: str = _setting(
        "visible", "Gradescope visibility of the total score", flag="--visibility",
        choices=VISIBILITIES)
    test_visibility: str = _setting(
        "visible", "Gradescope visibility of each hidden test's result",
        flag="--test-visibility", choices=VISIBILITIES)
    jobs: int = _setting(
        os.cpu_count() or 1, "submissions graded at the same time (grade-batch)",
        flag="--jobs", verdict=False, metavar="N")
    isolation: str = _setting(
        "auto", "sandbox isolation: auto (every layer the machine offers) or none (testing)",
        flag="--isolation", choices=ISOLATIONS)
    weak_isolation: str = _setting(
        "refuse", "where a sandbox layer is missing and student code could read the grader's "
        "files (suites, results, sources): refuse to grade, or accept the risk",
        flag="--weak-isolation", choices=("refuse", "accept"), verdict=False)
    audit: bool = field(default=True, metadata={"verdict": True, "flag": None})
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            choices = spec.metadata.get("choices")
            value = getattr(self, spec.name)
            if choices and value not in choices:
                raise ConfigError(f"{spec.metadata['flag']} must be one of "
                                  f"{', '.join(choices)}; got {value!r}")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ConfigError(f"--jobs must be a whole number >= 1; got {self.jobs!r}")
        if not isinstance(self.limits, Limits):
            raise ConfigError("limits must be a Limits object")

    def replace(self, **changes: Any) -> GradingConfig:
        """A copy with some settings changed; limit fields may be given by name too."""
        limit_names = {spec.name for spec in dataclasses.fields(Limits)}
        limits = {k: changes.pop(k) for k in list(changes) if k in limit_names}
        if limits:
            changes["limits"] = dataclasses.replace(self.limits, **limits)
        try:
            return dataclasses.replace(self, **changes)
        except (TypeError, ValueError) as error:
            raise ConfigError(str(error)) from None

    def verdict_key(self) -> dict[str, Any]:
        """The settings that can change a grade (part of the batch's resume key)."""
        key = {spec.name: getattr(self, spec.name) for spec in dataclasses.fields(self)
               if spec.name != "limits" and spec.metadata.get("verdict")}
        key["limits"] = {spec.name: getattr(self.limits, spec.name)
                         for spec in dataclasses.fields(Limits) if spec.metadata["verdict"]}
        return key

    def to_json(self) -> str:
        data = {spec.name: getattr(self, spec.name) for spec in dataclasses.fields(self)
                if spec.name != "limits"}
        data["limits"] = self.limits.to_wire()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GradingConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"the grading configuration is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise ConfigError("the grading configuration must be a JSON object")
        known = {spec.name for spec in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown grading settings: {', '.join(unknown)}")
        limits = data.pop("limits", {})
        if not isinstance(limits, dict):
            raise ConfigError("limits must be a JSON object")
        try:
            return cls(**data, limits=Limits(**limits))
        except (TypeError, ValueError) as error:
            raise ConfigError(f"bad grading configuration: {error}") from None


# ============================================================================ the command line
def add_arguments(parser: argparse.ArgumentParser, *, batch: bool = False,
                  visibility: bool = True, sandbox: bool = True) -> None:
    """The configuration's flags: the device, and where they apply the visibilities, the jobs
    of a batch and the sandbox's isolation and limits (``validate`` runs no sandbox)."""
    group = parser.add_argument_group("grading configuration (the same for every command)")
    for spec in dataclasses.fields(GradingConfig):
        flag = spec.metadata.get("flag")
        if flag is None or (spec.name == "jobs" and not batch) or \
                (spec.name in ("visibility", "test_visibility") and not visibility) or \
                (spec.name == "isolation" and not sandbox):
            continue
        default = spec.default
        extra: dict[str, Any] = {"choices": spec.metadata["choices"]} \
            if spec.metadata["choices"] else {"type": int, "metavar": spec.metadata["metavar"]}
        names = [flag, "-j"] if spec.name == "jobs" else [flag]
        group.add_argument(*names, dest=spec.name, default=default,
                           help=f"{spec.metadata['help']} (default: %(default)s)", **extra)
    for spec in dataclasses.fields(Limits):
        flag = spec.metadata["flag"]
        if flag is None or not sandbox:
            continue
        kind = float if spec.type in ("float", float) else int
        group.add_argument(flag, dest=f"limit_{spec.name}", type=kind, default=spec.default,
                           metavar=spec.metadata["metavar"],
                           help=f"{spec.metadata['help']} (default: %(default)s)")


def from_args(args: argparse.Namespace) -> GradingConfig:
    """The configuration the flags of :func:`add_arguments` describe (ConfigError if invalid)."""
    settings = {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(GradingConfig)
                if spec.metadata.get("flag") and hasattr(args, spec.name)}
    limits = {spec.name: getattr(args, f"limit_{spec.name}")
              for spec in dataclasses.fields(Limits) if hasattr(args, f"limit_{spec.name}")}
    try:
        return GradingConfig(**settings, limits=Limits(**limits))
    except ConfigError:
        raise
    except ValueError as error:
        raise ConfigError(str(error)) from None


# ============================================================================ the device
def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def device_problem(device: str) -> str | None:
    """Why ``device`` cannot be used on this machine, or None.  The one place CUDA is decided."""
    if device not in DEVICES:
        return f"--device must be one of {', '.join(DEVICES)}; got {device!r}"
    if device == "cuda" and not cuda_available():
        return ("--device cuda was asked for, but torch.cuda.is_available() is False on this "
                "machine (no GPU, or a CPU-only build of torch); nothing was graded")
    return None
