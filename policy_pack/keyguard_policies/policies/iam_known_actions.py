"""IAM ignores actions it does not know: a typo in an Allow grants nothing, in a Deny denies
nothing. Every statement is checked, Deny included."""
import difflib
import functools

from .. import iam_catalog
from ..documents import documents_of
from ..least_privilege import DOCUMENT_TYPES
from . import Violation

NAME = "iam-known-actions"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


@functools.lru_cache(maxsize=4096)
def problem(action: str) -> str | None:
    if action == "*":
        return None
    service, sep, name = action.partition(":")
    if not sep or not service or not name:
        return f"{action!r} is not of the form service:Action"
    if iam_catalog.is_pattern(action):
        return None if iam_catalog.match_count(action) else f"{action!r} matches no known action"
    if not iam_catalog.is_known_service(service) and "*" not in service:
        return f"{action!r} has an unknown service prefix {service!r}"
    if iam_catalog.lookup(action) is None:
        close = closest(name, iam_catalog.names_with_prefix(service, name[0]))
        hint = f" (did you mean {service}:{close}?)" if close else ""
        return f"{action!r} is not a known action{hint}"
    return None


def closest(word: str, candidates, cutoff: float = 0.6) -> str | None:
    """What `difflib.get_close_matches(word, candidates, n=1, cutoff)` returns (its only match, or
    None), computing the costly `ratio` only for candidates whose upper bound (`quick_ratio`) could
    still beat the best found: the answer is the same, a typo's suggestion several times cheaper."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    bounded = []
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff:
            bound = matcher.quick_ratio()
            if bound >= cutoff:
                bounded.append((bound, candidate))
    bounded.sort(reverse=True)
    best = None
    for bound, candidate in bounded:
        if best is not None and bound < best[0]:
            break  # ratio <= quick_ratio: no candidate left can beat (or tie with) the best
        matcher.set_seq1(candidate)
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, candidate) > best):
            best = (score, candidate)
    return best[1] if best else None


def check(resource, params):
    for document in documents_of(resource):
        for statement in document.statements:
            for action in statement.actions + statement.not_actions:
                issue = problem(action)
                if issue:
                    yield Violation(f"{document.path} {statement.label}: {issue}", evidence=statement.evidence())
