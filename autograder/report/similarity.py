"""Similar submissions: which students' answer cells share code beyond the starter code.

Fingerprinting is copydetect's (Schleimer, Wilkerson & Aiken 2003, *Winnowing:
local algorithms for document fingerprinting*, SIGMOD): each answer is tokenised
with Pygments' Python lexer and normalised (names become ``V``/``F``/``O``,
strings ``S``, comments and whitespace dropped), every ``k``-gram of the
normalised text is hashed, and winnowing keeps the minimum hash of each window
of ``w`` consecutive hashes.  Two answers that share a run of at least
``k + w - 1`` normalised characters are guaranteed to share a fingerprint;
runs shorter than ``k`` are noise and never count.  The similarity of a pair,
for each side, is the fraction of its fingerprinted tokens that the other side
shares.

Only the answer cells are compared (the rule of :mod:`autograder.intake.cells`,
via the loader): the notebook's text, its visible tests and its imports are
not, and every fingerprint of the released starter code's answer cells
(signatures, docstrings, ``raise NotImplementedError()``) is removed as
boilerplate first, so a student who wrote nothing is similar to no one.

This is a report for an instructor to read, never a verdict: short functions
written from the same formula look alike, and the report shows the shared code
side by side so a person can judge.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

from autograder.spec import Assignment

# copydetect's defaults: noise threshold k = 25 normalised characters, guarantee threshold 30
# (window w = 30 - 25 + 1).
NOISE = 25
GUARANTEE = 30


@dataclass(frozen=True)
class Pair:
    """Two students whose answers share code: each side's shared fraction and the markup."""

    first: str
    second: str
    similarity_first: float  # shared fraction of the first student's fingerprinted code
    similarity_second: float
    shared_tokens: int
    first_html: str  # the first student's answers, shared code in <mark>, HTML-escaped
    second_html: str

    @property
    def similarity(self) -> float:
        return max(self.similarity_first, self.similarity_second)


def answer_text(answers: dict[str, str], assignment: Assignment) -> str:
    """A student's answer cells (part -> code) as one text, in the assignment's part order."""
    return "\n\n".join(answers[p.name] for p in assignment.parts if p.name in answers)


def _fingerprint(name: str, code: str, window: int, boilerplate: Any) -> Any:
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", NOISE, window, boilerplate=boilerplate,
                           language="python", fp=io.StringIO(code))


def similar_pairs(answers: dict[str, str], starter: str, *, threshold: float = 0.5,
                  top: int = 20) -> list[Pair]:
    """The ``top`` pairs whose similarity (the larger side's) is at least ``threshold``, ranked."""
    import numpy as np
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"the similarity threshold must be in [0, 1], got {threshold!r}")
    window = GUARANTEE - NOISE + 1
    # Every k-gram of the starter code (window 1), as copydetect builds its boilerplate.
    boilerplate = np.array(sorted(_fingerprint("starter", starter, 1, None).hashes))
    prints = {student: _fingerprint(student, code, window, boilerplate)
              for student, code in sorted(answers.items())}
    pairs = []
    for first, second in itertools.combinations(sorted(prints), 2):
        a, b = prints[first], prints[second]
        if not a.hashes or not b.hashes:
            continue
        overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(a, b)
        if overlap == 0 or max(sim_a, sim_b) < threshold:
            continue
        html_a, _ = highlight_overlap(a.raw_code, slices_a, "<mark>", "</mark>", truncate=4,
                                      escape_html=True)
        html_b, _ = highlight_overlap(b.raw_code, slices_b, "<mark>", "</mark>", truncate=4,
                                      escape_html=True)
        pairs.append(Pair(first, second, float(sim_a), float(sim_b), int(overlap), html_a,
                          html_b))
    pairs.sort(key=lambda p: (-p.similarity, -p.shared_tokens, p.first, p.second))
    return pairs[:top]
