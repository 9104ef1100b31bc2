"""Similar submissions: winnowed fingerprints of answer cells, starter code removed."""

from __future__ import annotations

import pytest

pytest.importorskip("copydetect")

from autograder.report.similarity import similar_pairs  # noqa: E402

STARTER = '''def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability p, scale survivors by 1/(1-p)."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''
ORIGINAL = '''def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability p, scale survivors by 1/(1-p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x.clone()
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep.to(x.dtype) / (1 - p)
'''
# The same code with every name changed and comments added: the tokens normalise alike.
RENAMED = '''def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability p, scale survivors by 1/(1-p)."""
    # check the probability
    if not 0 <= p <= 1:
        raise ValueError(f"probability out of range: {p}")
    if not training or p == 0:
        return x.clone()
    if p == 1:
        return torch.zeros_like(x)
    mask = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * mask.to(x.dtype) / (1 - p)
'''
DIFFERENT = '''def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability p, scale survivors by 1/(1-p)."""
    assert 0.0 <= p <= 1.0
    out = x.clone()
    if training:
        for index in range(out.numel()):
            u = torch.rand((), generator=generator)
            out.view(-1)[index] = 0.0 if u < p else out.view(-1)[index] / (1.0 - p)
    return out
'''


def test_renamed_copies_rank_first_and_the_shared_code_is_marked() -> None:
    pairs = similar_pairs({"ann": ORIGINAL, "bob": RENAMED, "cy": DIFFERENT}, STARTER,
                          threshold=0.0)
    assert (pairs[0].first, pairs[0].second) == ("ann", "bob")
    assert pairs[0].similarity > 0.8
    assert all(p.similarity < pairs[0].similarity for p in pairs[1:])
    assert "<mark>" in pairs[0].first_html and "<mark>" in pairs[0].second_html
    assert "&lt;=" in pairs[0].first_html  # escaped for the page


def test_the_starter_code_is_not_similarity() -> None:
    """Two students who left the stub (plus a line) share only the starter: no pair."""
    stub_a = STARTER + "\nprint('attempt one')\n"
    stub_b = STARTER + "\nvalue = 3\n"
    assert similar_pairs({"ann": stub_a, "bob": stub_b, "cy": STARTER}, STARTER,
                         threshold=0.0) == []


def test_threshold_and_top_limit_the_pairs() -> None:
    answers = {"ann": ORIGINAL, "bob": RENAMED, "cy": DIFFERENT, "dee": ORIGINAL}
    everything = similar_pairs(answers, STARTER, threshold=0.0, top=100)
    # cy's answer shares no run of k normalised characters beyond the starter with anyone
    assert {(p.first, p.second) for p in everything} == {("ann", "bob"), ("ann", "dee"),
                                                         ("bob", "dee")}
    assert len(similar_pairs(answers, STARTER, threshold=0.0, top=2)) == 2
    with pytest.raises(ValueError, match="threshold"):
        similar_pairs(answers, STARTER, threshold=1.5)
