"""Runs the rules: one call per resource policy and resource, one per stack policy. Every
exception a rule raises becomes a finding (unverifiable for an unknown value, a violation for
anything else), so no rule can crash a run or let a resource pass by raising."""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping

from . import catalog
from .model import UNVERIFIABLE, VIOLATION, Finding, Resource, Stack
from .policies import RULES, Rule, Violation
from .values import Malformed, Unverifiable


@dataclasses.dataclass
class PolicyOutcome:
    name: str
    enforcement: str
    subjects: list[str]            # URNs the policy judged (JUnit: one case per policy x resource)
    findings: list[Finding]

    @property
    def status(self) -> str:
        if any(f.kind == VIOLATION for f in self.findings):
            return "fail"
        if self.findings:
            return "unverifiable"
        return "pass" if self.subjects else "not-applicable"


def _collect(rule: Rule, produce: Callable[..., Iterable[Violation]], args: tuple, subject: Resource | None,
             stack: Stack | None, out: list[Finding]) -> None:
    """Run `produce(*args)` and drain what it yields, turning what it raises (when called or while
    iterating) into findings about `subject`."""
    default = subject
    try:
        for v in produce(*args):
            target = (stack.by_urn.get(v.urn) if stack is not None else None) if v.urn else default
            out.append(Finding(rule.NAME, v.kind, target.urn if target else (v.urn or ""),
                               target.type if target else "", v.message, v._evidence))  # built when read
    except Unverifiable as err:
        out.append(Finding(rule.NAME, UNVERIFIABLE, default.urn if default else "",
                           default.type if default else "", f"cannot be verified: {err.what}"))
    except Malformed as err:
        out.append(Finding(rule.NAME, VIOLATION, default.urn if default else "",
                           default.type if default else "", f"malformed input: {err}"))
    except Exception as err:  # fail closed: a rule that breaks never passes a resource
        out.append(Finding(rule.NAME, VIOLATION, default.urn if default else "",
                           default.type if default else "",
                           f"could not be evaluated ({type(err).__name__}: {err}); failing closed"))


def run_resource_rule(rule: Rule, resource: Resource, params: Mapping, stack: Stack | None = None) -> list[Finding]:
    out: list[Finding] = []
    _collect(rule, rule.check, (resource, params), resource, stack, out)
    return out


def subjects_of(rule: Rule, stack: Stack) -> tuple[list[Resource], list[Finding]]:
    """The resources a stack rule judges; if working that out fails, a fail-closed finding."""
    out: list[Finding] = []
    try:
        return list(rule.subjects(stack)), out
    except Exception as err:  # noqa: BLE001 - reported, never raised
        failure = err
    _collect(rule, _raise, (failure,), None, stack, out)
    return [], out


def _raise(err: Exception) -> Iterable[Violation]:
    raise err


def run_stack_rule(rule: Rule, stack: Stack, params: Mapping,
                   subjects: list[Resource] | None = None) -> list[Finding]:
    """Stack rules report per resource; one that raises is reported on its first subject."""
    out: list[Finding] = []
    if subjects is None:
        subjects, out = subjects_of(rule, stack)
        if out:
            return out
    _collect(rule, rule.check_stack, (stack, params), subjects[0] if subjects else None, stack, out)
    return out


def evaluate(stack: Stack, settings: Mapping[str, catalog.PolicySettings] | None = None,
             progress=None) -> list[PolicyOutcome]:
    """Every enabled policy over the stack, in catalog order. Resource rules run resource by
    resource, so the rules that read the same document find it parsed already."""
    settings = settings or catalog.resolve(None)
    enabled = {name: rule for name, rule in RULES.items() if settings[name].enforcement != "disabled"}
    outcomes = {name: PolicyOutcome(name, settings[name].enforcement, [], []) for name in enabled}
    by_type: dict[str, list[tuple]] = {}
    for name, rule in enabled.items():
        if rule.KIND == "resource":
            entry = (rule, settings[name].params, outcomes[name])
            for type_ in rule.SUPPORTED_RESOURCES:
                by_type.setdefault(type_, []).append(entry)
    for resource in stack.resources:
        # run_resource_rule's work, inlined: this loop runs once per resource and rule
        for rule, params, outcome in by_type.get(resource.type, ()):
            outcome.subjects.append(resource.urn)
            _collect(rule, rule.check, (resource, params), resource, stack, outcome.findings)
    for name, rule in enabled.items():
        if rule.stack_part:  # what only the stack shows, judged after the resources themselves
            found = rule.stack_subjects(stack)
            if found:
                outcomes[name].findings.extend(run_stack_rule(rule, stack, settings[name].params, found))
        if rule.KIND == "stack":
            found, findings = subjects_of(rule, stack)
            outcomes[name].subjects = [r.urn for r in found]
            outcomes[name].findings = run_stack_rule(rule, stack, settings[name].params, found) if found else findings
        if progress:
            progress(name)
    return list(outcomes.values())
