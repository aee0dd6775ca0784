"""What an identity policy document lets its holder do, as IAM evaluates it: an action is allowed on
a resource when some Allow statement covers both and no Deny removes it.

Actions match case-insensitively with `*` and `?`; resources match case-sensitively, and a `*`
crosses a `:` only when it ends its ARN segment (IAM's rule). Conditions cannot be evaluated
offline: a conditional Allow still counts as a grant (a `kms:ViaService` condition is how SSE-KMS
grants are usually scoped) and only an unconditional Deny removes one. Besides exact ARNs, a
document can be asked about every object under a prefix (`arn:aws:s3:::bucket/`): whether it may
reach some of them, and whether a Deny covers all of them."""
from __future__ import annotations

import functools
from typing import Iterable

from .action_patterns import matches as action_matches
from .documents import Document, Statement

_STAR, _ONE = "*", "?"


# A resource pattern as tokens: a literal character, "?" (one character, not a colon), or a star
# that crosses colons (it ends its segment) or not.
_LIT, _ANY, _SEG_STAR, _STAR_ALL = "lit", "any", "seg*", "all*"


@functools.lru_cache(maxsize=4096)
def _tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    out = []
    for i, c in enumerate(pattern):
        if c == _STAR:
            ends_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append((_STAR_ALL if ends_segment else _SEG_STAR, ""))
        elif c == _ONE:
            out.append((_ANY, ""))
        else:
            out.append((_LIT, c))
    return tuple(out)


def _closure(tokens, states: set[int]) -> set[int]:
    """A star may match nothing: a state before it also stands after it."""
    todo = list(states)
    while todo:
        i = todo.pop()
        if i < len(tokens) and tokens[i][0] in (_SEG_STAR, _STAR_ALL) and i + 1 not in states:
            states.add(i + 1)
            todo.append(i + 1)
    return states


def _step(tokens, states: set[int], c: str) -> set[int]:
    out = set()
    for i in states:
        if i == len(tokens):
            continue
        kind, literal = tokens[i]
        if kind == _STAR_ALL or (kind == _SEG_STAR and c != ":"):
            out.add(i)
        elif (kind == _ANY and c != ":") or (kind == _LIT and literal == c):
            out.add(i + 1)
    return _closure(tokens, out)


@functools.lru_cache(maxsize=4096)
def _head(pattern: str) -> int:
    """How many leading characters of the pattern are literal (each is one token)."""
    stars = [i for i in (pattern.find(_STAR), pattern.find(_ONE)) if i != -1]
    return min(stars) if stars else len(pattern)


_NONE: frozenset[int] = frozenset()


@functools.lru_cache(maxsize=65536)
def _after(pattern: str, text: str) -> frozenset[int]:
    """The pattern positions reachable after reading `text`. While the text is within the
    pattern's literal head only one position is possible, so that part is a string comparison."""
    head = _head(pattern)
    if len(text) <= head:
        if not pattern.startswith(text):
            return _NONE
        return frozenset(_closure(_tokens(pattern), {len(text)}))
    if not text.startswith(pattern[:head]):
        return _NONE  # most patterns of a stack name other resources: no tokens needed to tell
    tokens = _tokens(pattern)
    states = _closure(tokens, {head})
    for c in text[head:]:
        states = _step(tokens, states, c)
        if not states:
            break
    return frozenset(states)


def resource_matches(pattern: str, arn: str) -> bool:
    if _STAR not in pattern and _ONE not in pattern:
        return pattern == arn
    states = _after(pattern, arn)
    return bool(states) and len(_tokens(pattern)) in states


def may_match_under(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches some ARN that starts with `prefix` and goes on (an object of a bucket)."""
    states = _after(pattern, prefix)
    return bool(states) and any(i < len(_tokens(pattern)) for i in states)


def covers_all_under(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches every ARN that starts with `prefix` and goes on: after the prefix
    only stars that cross colons are left (`bucket/*`, `*`, `arn:aws:s3:::ai-*`). Other patterns
    that happen to cover everything (rare) are not recognised, which can only keep a grant alive."""
    states = _after(pattern, prefix)
    if not states:
        return False
    tokens = _tokens(pattern)
    return any(i < len(tokens) and all(kind == _STAR_ALL for kind, _ in tokens[i:]) for i in states)


def covers_action(statement: Statement, action: str) -> bool:
    if statement.not_actions:
        return not _any_matches(statement.not_actions, action)
    return _any_matches(statement.actions, action)


@functools.lru_cache(maxsize=16384)
def _any_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Whether one of a statement's action patterns matches `action` (the same lists recur)."""
    return any(action_matches(p, action) for p in patterns)


def _covers_resource(statement: Statement, arn: str) -> bool:
    if statement.not_resources:
        return not any(resource_matches(p, arn) for p in statement.not_resources)
    return any(resource_matches(p, arn) for p in statement.resources)


def _denies(statement: Statement) -> bool:
    return not statement.allows and not statement.condition


def allowed(document: Document, action: str, arn: str) -> bool:
    """Whether the document allows `action` on the resource `arn` (an exact ARN)."""
    granted = False
    for statement in document.statements:
        if not covers_action(statement, action) or not _covers_resource(statement, arn):
            continue
        if _denies(statement):
            return False
        granted |= statement.allows
    return granted


def statements_reaching(document: Document, actions: Iterable[str], prefix: str) -> list[Statement]:
    """The Allow statements that grant one of `actions` on some resource under `prefix`, unless an
    unconditional Deny of that action covers everything under it."""
    reaching, seen = [], set()
    for action in actions:
        if any(_denies(s) and covers_action(s, action) and _covers_all(s, prefix) for s in document.statements):
            continue
        for statement in document.statements:
            # by identity: statements of one document differ by index, and comparing dataclasses is slow
            if statement.allows and id(statement) not in seen and covers_action(statement, action) \
                    and _may_reach(statement, prefix):
                reaching.append(statement)
                seen.add(id(statement))
    return sorted(reaching, key=lambda s: s.index)


def _may_reach(statement: Statement, prefix: str) -> bool:
    if statement.not_resources:
        return not any(covers_all_under(p, prefix) for p in statement.not_resources)
    return any(may_match_under(p, prefix) for p in statement.resources)


def _covers_all(statement: Statement, prefix: str) -> bool:
    if statement.not_resources:
        return not any(may_match_under(p, prefix) for p in statement.not_resources)
    return any(covers_all_under(p, prefix) for p in statement.resources)
