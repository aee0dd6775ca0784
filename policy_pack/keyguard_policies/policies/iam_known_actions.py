"""IAM ignores actions it does not know: a typo in an Allow grants nothing, in a Deny denies
nothing. Every statement is checked, Deny included."""
import bisect
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
    if _facts(action).count:  # it names catalog actions
        return None
    if iam_catalog.is_pattern(action):
        return f"{action!r} matches no known action"
    if not iam_catalog.is_known_service(service) and "*" not in service:
        return f"{action!r} has an unknown service prefix {service!r}"
    close = closest(name, iam_catalog.names_with_prefix(service, name[0]))
    hint = f" (did you mean {service}:{close}?)" if close else ""
    return f"{action!r} is not a known action{hint}"


_facts = iam_catalog.facts  # shared with the other rules, which ask first


def closest(word: str, candidates, cutoff: float = 0.6) -> str | None:
    """What `difflib.get_close_matches(word, candidates, n=1, cutoff)` returns (its only match, or
    None): the candidate with the greatest (ratio, candidate), ratio >= cutoff, where ratio is
    difflib's 2*M/T (M: the size of `SequenceMatcher(None, candidate, word)`'s matching blocks,
    T: both lengths). The costly M is computed only where an upper bound could still reach the
    best score found, and by `_matching`, which finds difflib's blocks with substring searches.
    Candidates are taken by their length bound (2*min/T, difflib's `real_quick_ratio`) from the
    highest down, walking out from the word's length in the candidates sorted by length, and the
    walk stops once it falls below the best score; a longest-common-subsequence bound (bit-parallel,
    >= M: the blocks are a common subsequence) skips most of the rest. A candidate whose bound
    equals the best is still scored (a tie goes to the greater string, as in difflib)."""
    if not 0.0 <= cutoff <= 1.0:
        raise ValueError(f"cutoff must be in [0.0, 1.0]: {cutoff!r}")
    n = len(word)
    if not n or n >= 200:  # difflib's own answer: its autojunk heuristic changes M for words of 200+ characters
        found = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
        return found[0] if found else None
    positions: dict[str, int] = {}  # character -> bit mask of its positions in `word`
    for i, char in enumerate(word):
        positions[char] = positions.get(char, 0) | 1 << i
    get = positions.get
    full = (1 << n) - 1
    ordered = sorted(candidates, key=len)
    up = bisect.bisect_left(ordered, n, key=len)  # the shortest candidate at least as long as `word`
    down = up - 1                                  # the longest shorter one
    best: tuple[float, str] | None = None
    floor = cutoff
    while True:
        above = 2.0 * n / (len(ordered[up]) + n) if up < len(ordered) else -1.0
        below = 2.0 * len(ordered[down]) / (len(ordered[down]) + n) if down >= 0 else -1.0
        if above >= below:
            bound, candidate = above, ordered[up] if up < len(ordered) else ""
            up += 1
        else:
            bound, candidate = below, ordered[down]
            down -= 1
        if bound < floor:
            break  # no later candidate's length bound reaches the best score (or the cutoff)
        total = len(candidate) + n
        lcs = full  # Hyyrö's bit-parallel LCS: the zero bits of `lcs` count the longest common subsequence
        for char in candidate:
            mask = get(char)
            if mask:
                step = lcs & mask
                lcs = (lcs + step) | (lcs - step)
        if 2.0 * (n - (lcs & full).bit_count()) / total < floor:
            continue
        score = 2.0 * _matching(candidate, word) / total
        if score >= cutoff and (best is None or (score, candidate) > best):
            best = (score, candidate)
            floor = score
    return best[1] if best else None


def _matching(a: str, b: str) -> int:
    """The total size of `difflib.SequenceMatcher(None, a, b).get_matching_blocks()` (no junk:
    `b` shorter than 200 characters): the longest common substring of the two ranges, the first in
    `a` and then in `b` of the longest (difflib's `find_longest_match` without junk), then the
    same on each side of it. Each range's longest is found by substring searches: at each start in
    `a`, only whether the best length plus one still occurs in `b`'s range (n + longest searches)."""
    total = 0
    todo = [(0, len(a), 0, len(b))]
    while todo:
        alo, ahi, blo, bhi = todo.pop()
        part = b[blo:bhi]
        size = 0
        start = i = alo
        while i + size < ahi:
            if a[i:i + size + 1] in part:
                size += 1
                start = i
            else:
                i += 1
        if size:
            total += size
            j = blo + part.find(a[start:start + size])
            if alo < start and blo < j:
                todo.append((alo, start, blo, j))
            if start + size < ahi and j + size < bhi:
                todo.append((start + size, ahi, j + size, bhi))
    return total


def check(resource, params):
    for document in documents_of(resource):
        for statement in document.statements:
            for action in statement.actions + statement.not_actions:
                issue = problem(action)
                if issue:
                    yield Violation(f"{document.path} {statement.label}: {issue}", evidence=statement)
