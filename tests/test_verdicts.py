"""Issue #8's verdict classes (tests/verdict_cases.py), each case with its exact finding set, in
both paths: `keyguard audit`'s engine, and the pack over gRPC as `pulumi up` drives it (Analyze on
each resource's inputs, then AnalyzeStack on the resources' final state)."""
from __future__ import annotations

import dataclasses

import pytest

from keyguard.analyzer_client import PackProcess, merged_config
from keyguard_policies.engine import evaluate
from keyguard_policies.model import Stack

from .conftest import REPO
from .verdict_cases import CASES, SCOPE, U, V


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def audit(resources) -> set[tuple[str, str, str]]:
    return {(f.policy, _name(f.urn), f.kind) for o in evaluate(Stack(resources)) for f in o.findings
            if f.policy in SCOPE}


def comparable(findings) -> set[tuple[str, str, str]]:
    """Unverifiable notes of pulumi-policy carry no resource: compare them by policy."""
    return {(p, n if k == V else "?", k) for p, n, k in findings}


def pack_verdict(pack, resources) -> set[tuple[str, str, str]]:
    found = set()
    for resource in resources:  # Analyze sees inputs only, as before a create
        for d in pack.analyze(dataclasses.replace(resource, outputs={})).diagnostics:
            found.add((d.policyName, resource.name, U if "during preview" in d.message else V))
    found = {f for f in found if f[0] in SCOPE}
    state = [dataclasses.replace(r, props={**r.outputs, **r.props}) for r in resources]
    for d in pack.analyze_stack(state).diagnostics:
        if d.policyName in SCOPE:
            found.add((d.policyName, _name(d.urn) if d.urn else "?", U if "during preview" in d.message else V))
    return found


@pytest.fixture(scope="module")
def pack():
    with PackProcess(REPO / "policy_pack") as process:
        process.configure(merged_config())
        yield process


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}-{c.id}" for c in CASES])
def test_audit_gives_exactly_the_expected_findings(case):
    assert audit(case.build().values()) == set(case.expected)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}-{c.id}" for c in CASES])
def test_pack_over_grpc_gives_the_same_verdict(pack, case):
    assert pack_verdict(pack, list(case.build().values())) == comparable(case.expected)


def test_every_class_has_cases():
    assert {c.cls for c in CASES} == {1, 2, 3, 4, 5, 6}
