"""tests/baseline.py is the compliant design every policy test mutates; here it is checked against
what the program in stack/ registers under Pulumi's mocks, so the two cannot drift apart silently:
every resource a policy judges is in the baseline, with the same type, name, inputs, outputs the
baseline names, and property dependencies. Only the generated identifiers differ (the mocks derive
bucket names and key ids from URNs; the baseline spells fixed ones), and they are mapped first."""
from __future__ import annotations

import json

import pytest

from keyguard_policies.policies import RULES
from tests import baseline as B

#: Inputs of the program a policy never reads, so the baseline leaves them out (descriptions and
#: the bucket's name prefix, whose generated name the baseline spells as `bucket`).
NOT_JUDGED = {
    B.T["key"]: {"description"},
    B.T["bucket"]: {"bucketPrefix"},
    B.T["boundary"]: {"description"},
    B.T["backend"]: {"description", "region"},
    B.T["approle"]: {"description"},
}
JUDGED_TYPES = {t for rule in RULES.values() for t in rule.SUPPORTED_RESOURCES}
#: Types no policy judges but stack rules read as context (an alias resolves to its key).
CONTEXT_TYPES = {B.T["alias"]}
#: Resources of the program that no policy reads at all.
UNJUDGED = {("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ai-app-data-public-access"),
            ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ai-app-data-ownership")}


@pytest.fixture(scope="module")
def captured(program_resources):
    """The program's resources (providers aside) by name, with generated identifiers mapped to the baseline's."""
    by_name = {r.name: r for r in program_resources if not r.type.startswith("pulumi:providers:")}
    key, bucket = by_name["ai-app-kms-key"], by_name["ai-app-data"]
    boundary, approle = by_name["vault-user-boundary"], by_name["ai-app-approle"]
    login = by_name["ai-app-approle-role"]
    names = {key.outputs["arn"]: B.KEY_ARN, key.outputs["keyId"]: B.KEY_ID, bucket.outputs["bucket"]: B.BUCKET,
             boundary.outputs["arn"]: B.BOUNDARY_ARN, approle.outputs["accessor"]: B.ACCESSOR,
             login.outputs["roleId"]: B.ROLE_ID}

    def mapped(value):
        text = json.dumps(value)
        for generated, fixed in names.items():
            text = text.replace(generated, fixed)
        return json.loads(text)

    return {name: (r, mapped(dict(r.props)), mapped(dict(r.outputs))) for name, r in by_name.items()}


def test_every_judged_resource_of_the_program_is_in_the_baseline(captured):
    program = {(r.type, name) for name, (r, _, _) in captured.items()}
    assert program - UNJUDGED == {(r.type, r.name) for r in B.baseline().values()}
    assert not {t for t, _ in UNJUDGED} & (JUDGED_TYPES | CONTEXT_TYPES)


def test_every_baseline_type_is_read_by_some_policy():
    assert {r.type for r in B.baseline().values()} <= JUDGED_TYPES | CONTEXT_TYPES


@pytest.mark.parametrize("role", list(B.baseline()))
def test_baseline_inputs_are_the_programs(role, captured):
    resource = B.baseline()[role]
    program, props, outputs = captured[resource.name]
    assert resource.urn == program.urn
    judged = {k: v for k, v in props.items() if k not in NOT_JUDGED.get(resource.type, set())}
    # the baseline spells the generated bucket name as an input where the program has it as an output
    expected = {k: v for k, v in resource.props.items() if not (role == "bucket" and k == "bucket")}
    assert judged == expected
    for key, value in resource.outputs.items():
        assert (outputs.get(key) if key != "id" else outputs.get("bucket", outputs.get("keyId"))) == value, key


@pytest.mark.parametrize("role", list(B.baseline()))
def test_baseline_property_dependencies_are_the_programs(role, captured):
    resource = B.baseline()[role]
    program = captured[resource.name][0]
    for prop, urns in resource.property_dependencies.items():
        assert set(program.depends_on(prop)) == set(urns), prop
