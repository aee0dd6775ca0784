"""grants.py's resource matching compares a pattern's literal head as a string before stepping
through the rest; over generated patterns and ARNs it must answer exactly as stepping through every
character does (the reference below is the step-by-step reading)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from keyguard_policies import grants

PIECES = st.sampled_from(["arn:aws:s3:::", "b", "a", "/", ":", "*", "?", "x", "arn:aws:kms:", "key/", "k"])
PATTERNS = st.lists(PIECES, min_size=0, max_size=7).map("".join)
TEXTS = st.lists(st.sampled_from(["arn:aws:s3:::", "b", "a", "/", ":", "x", "key/", "k", "*"]), max_size=7).map("".join)


def _reference_after(pattern: str, text: str) -> frozenset[int]:
    tokens = grants._tokens(pattern)
    states = grants._closure(tokens, {0})
    for c in text:
        states = grants._step(tokens, states, c)
    return frozenset(states)


@settings(max_examples=1500, derandomize=True)
@given(PATTERNS, TEXTS)
def test_the_literal_head_shortcut_changes_no_answer(pattern, text):
    tokens = grants._tokens(pattern)
    reference = _reference_after(pattern, text)
    assert grants._after(pattern, text) == reference
    assert grants.resource_matches(pattern, text) == (len(tokens) in reference)
    assert grants.may_match_under(pattern, text) == any(i < len(tokens) for i in reference)
    assert grants.covers_all_under(pattern, text) == any(
        i < len(tokens) and all(kind == grants._STAR_ALL for kind, _ in tokens[i:]) for i in reference)
