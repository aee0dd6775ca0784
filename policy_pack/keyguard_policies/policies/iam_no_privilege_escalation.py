"""Actions that let the holder grant itself more (data/privilege_escalation.json, with sources)
are never granted to workload credentials, however their resource is scoped."""
import functools
import json
from importlib import resources as _resources

from .. import action_patterns, iam_catalog
from ..least_privilege import DOCUMENT_TYPES, statement_checks, shorten
from . import Violation

NAME = "iam-no-privilege-escalation"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


@functools.lru_cache(maxsize=1)
def escalation_actions() -> frozenset[str]:
    data = json.loads(_resources.files("keyguard_policies").joinpath("data/privilege_escalation.json").read_text())
    return frozenset(action_patterns.fold(a) for a in data["actions"])


_NONE: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1)
def _exact() -> dict[str, frozenset[str]]:
    """{escalation action: {it}}: what an exact name grants, by its folded form (`Facts.folded`)."""
    return {name: frozenset((name,)) for name in escalation_actions()}


@functools.lru_cache(maxsize=4096)
def _matched(pattern: str) -> frozenset[str]:
    """The escalation actions one action string grants (IAM matches names case-insensitively).
    An exact name (most strings) by its folded form, which its `Facts` already hold: no matcher,
    no second fold. (A cache per string: on later documents one lookup is the cheapest answer.)"""
    if "*" not in pattern and "?" not in pattern:
        return _exact().get(_facts(pattern).folded, _NONE)
    return frozenset(a for a in escalation_actions() if action_patterns.matches(pattern, a))


_facts = iam_catalog.facts  # shared with the other rules, which ask first


def _names(patterns) -> frozenset[str]:
    return frozenset().union(*(_matched(p) for p in patterns))


def _judge(document, statement, resources):
    if statement.not_actions:
        found = escalation_actions() - _names(statement.not_actions)
    else:  # each _matched set is already within the escalation set: their union, built only when one is not empty
        found = _NONE
        for pattern in statement.actions:
            matched = _matched(pattern)
            if matched:
                found = found | matched if found else matched
    if found:
        yield Violation(f"{document.path} {statement.label} grants privilege-escalation action(s) "
                        f"{_shown(found)}", evidence=statement)


@functools.lru_cache(maxsize=1024)
def _shown(found: frozenset[str]) -> str:
    """The canonical names, sorted and shortened (the same sets recur: `*`, `iam:*`, NotAction)."""
    return shorten(sorted(iam_catalog.lookup(a).name if iam_catalog.lookup(a) else a for a in found))


check, check_stack, stack_subjects = statement_checks(_judge)
