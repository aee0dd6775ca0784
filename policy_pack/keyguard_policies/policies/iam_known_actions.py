"""IAM ignores actions it does not know: a typo in an Allow grants nothing, in a Deny denies
nothing. Every statement is checked, Deny included."""
import difflib
import functools
from collections import Counter

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
    None), with the costly `ratio` computed only where an upper bound could still reach the best
    score found: candidates are taken by their length bound (`real_quick_ratio`, from lengths
    alone) from the highest down, stopping once it falls below the best score; the character bound
    (`quick_ratio`, from character counts) skips the rest. ratio <= quick_ratio <= real_quick_ratio,
    and a candidate whose bound equals the best is still scored (a tie goes to the greater string,
    as in difflib), so the answer is difflib's, for a fraction of the work."""
    length = len(word)
    counts = Counter(word)
    by_length = sorted(((_bound(min(len(c), length), len(c) + length), c) for c in candidates), reverse=True)
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    best: tuple[float, str] | None = None
    floor = cutoff
    for bound, candidate in by_length:
        if bound < floor:
            break  # sorted: no later candidate's length bound reaches the best score (or the cutoff)
        shared = 0
        for char, n in Counter(candidate).items():
            m = counts.get(char)
            if m:
                shared += n if n < m else m
        if _bound(shared, len(candidate) + length) < floor:
            continue
        matcher.set_seq1(candidate)
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, candidate) > best):
            best = (score, candidate)
            floor = score
    return best[1] if best else None


def _bound(matches: int, total: int) -> float:
    """difflib's own ratio formula (`difflib._calculate_ratio`), so bounds compare exactly."""
    return 2.0 * matches / total if total else 1.0


def check(resource, params):
    for document in documents_of(resource):
        for statement in document.statements:
            for action in statement.actions + statement.not_actions:
                issue = problem(action)
                if issue:
                    yield Violation(f"{document.path} {statement.label}: {issue}", evidence=statement)
