"""Catalogues of submissions that the hidden suites must grade right (issue 7's evidence).

Each :class:`Entry` replaces the answer cells of some parts of an assignment's solution notebook
with other code:

- ``wrong`` entries are plausible mistakes (a wrong convention, an off-by-one, a missing
  rescaling, an unstable formula, an in-place modification, ...).  Each must score below 100 and
  lose points on every part in ``breaks``; parts that are neither in ``breaks`` nor in ``also``
  (the parts whose solution calls a broken one) must keep their full points, which shows that the
  suites pin a mistake on the part that has it.
- ``correct`` entries are other valid implementations (other formulas, other pairings, other uses
  of the random generator); each must keep 100.

The code of an entry is the whole answer cell, so it defines every private helper that other
cells of the solution take from the replaced cell (e.g. the ``_one_hot`` and ``_sample_beta``
helpers of a2's mixup cell).  tests/test_catalogue.py grades every entry through the real grader,
many per grading: :mod:`.packing` puts entries that cannot affect each other's parts (one per
part, with the parts that call them) into one notebook and judges each entry on its own parts,
so "keeps 100" means: every part the entry can affect keeps its points.  bench/bench_mutants.py
grades the mechanical mutants of tests/mutants the same way.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One catalogued submission: ``replace`` maps a part's name to its answer-cell source."""

    id: str
    assignment: str
    expect: str  # "wrong" (loses points on `breaks`) or "correct" (keeps 100)
    why: str  # what the code does and the expected outcome
    replace: dict[str, str] = field(default_factory=dict)
    breaks: tuple[str, ...] = ()
    also: tuple[str, ...] = ()


def wrong(assignment: str, part: str, id: str, why: str, code: str,
          also: tuple[str, ...] = ()) -> Entry:
    """A mistake in ``part``: the entry must lose points there (and may on ``also``)."""
    return Entry(id=id, assignment=assignment, expect="wrong", why=why,
                 replace={part: textwrap.dedent(code).strip() + "\n"}, breaks=(part,), also=also)


def correct(assignment: str, part: str, id: str, why: str, code: str) -> Entry:
    """Another valid implementation of ``part``: the entry must keep full marks."""
    return Entry(id=id, assignment=assignment, expect="correct", why=why,
                 replace={part: textwrap.dedent(code).strip() + "\n"})


def all_entries() -> list[Entry]:
    """Every entry of the three assignments' catalogues."""
    from . import a1_activations_init, a2_regularization, a3_optim_schedules

    return [*a1_activations_init.ENTRIES, *a2_regularization.ENTRIES,
            *a3_optim_schedules.ENTRIES]
