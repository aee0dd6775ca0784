import json

import pytest

from tests.baseline import BUCKET_ARN, baseline, document_carriers, role_document, run, with_props

POLICY = "iam-no-wildcard-actions"


def test_baseline_passes():
    assert run(POLICY, baseline()).violations == set()
    assert run(POLICY, baseline()).status == "pass"


@pytest.mark.parametrize("action", ["*", "s3:*", "s3:Get*", "s3:?etObject", "kms:*"])
def test_wildcard_action_in_vault_role(action):
    resources = baseline()
    doc = role_document()
    doc["Statement"][1]["Action"] = [action]
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(doc))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-role")}


def test_wildcard_in_deny_is_fine():
    resources = baseline()
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:*", "Resource": BUCKET_ARN})
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(doc))
    assert run(POLICY, resources).violations == set()


def test_every_document_location_and_form():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN}]}
    carriers = document_carriers(doc)
    assert len(carriers) == 18  # 9 locations x (string, object)
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_empty_inline_policy_marker_is_not_a_document():
    """pulumi-aws sends `inlinePolicies: [{name: "", policy: ""}]` to mean "no inline policies"."""
    from tests.baseline import make
    role = make("aws:iam/role:Role", "no-inline", {"inlinePolicies": [{"name": "", "policy": ""}]})
    assert run(POLICY, [role]).violations == set() and run(POLICY, [role]).status == "pass"
