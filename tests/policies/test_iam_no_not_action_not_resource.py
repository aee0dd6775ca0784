import json

import pytest

from tests.baseline import (APP, OBJECTS, baseline, document_carriers, policy_doc, role_document, run, with_props,
                            with_role_document)

POLICY = "iam-no-not-action-not-resource"


def _bucket_policy(doc):
    resources = baseline()
    resources["bucket_policy"] = with_props(resources["bucket_policy"], policy=json.dumps(doc))
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


def test_not_action_with_allow_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": OBJECTS})))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 uses NotAction with Allow"]


def test_not_resource_with_allow_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": [OBJECTS]})))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 uses NotResource with Allow"]


def test_both_in_one_statement_are_named():
    outcome = run(POLICY, with_role_document(policy_doc(
        {"Sid": "Wide", "Effect": "Allow", "NotAction": "iam:*", "NotResource": OBJECTS})))
    assert outcome.messages == ["policyDocument statement 'Wide' uses NotAction and NotResource with Allow"]


def test_not_action_and_not_resource_with_deny_are_fine():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "NotAction": "s3:GetObject", "NotResource": OBJECTS})
    assert run(POLICY, with_role_document(doc)).status == "pass"


def test_not_principal_with_allow_in_bucket_policy_is_flagged():
    doc = policy_doc({"Effect": "Allow", "NotPrincipal": APP, "Action": "s3:GetObject", "Resource": OBJECTS})
    outcome = run(POLICY, _bucket_policy(doc))
    assert outcome.violations == {(POLICY, "ai-app-data-tls-only")}
    assert outcome.messages == ["policy statement #1 uses NotPrincipal with Allow"]


def test_not_principal_with_deny_in_bucket_policy_is_fine():
    doc = policy_doc({"Effect": "Deny", "NotPrincipal": APP, "Action": "s3:DeleteObject", "Resource": OBJECTS})
    assert run(POLICY, _bucket_policy(doc)).status == "pass"


def test_not_principal_with_allow_in_key_policy_is_flagged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=policy_doc(
        {"Effect": "Allow", "NotPrincipal": APP, "Action": "kms:Decrypt", "Resource": "*"}))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


def test_baseline_tls_only_bucket_policy_passes():
    assert run(POLICY, _bucket_policy(policy_doc({"Effect": "Allow", "Principal": APP, "Action": "s3:GetObject",
                                            "Resource": OBJECTS}))).status == "pass"


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("statement", [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": OBJECTS},
                                       {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECTS}])
def test_every_document_location_and_form(statement):
    carriers = document_carriers(policy_doc(statement))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(policy_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS}))
    assert run(POLICY, carriers).status == "pass"


@pytest.mark.parametrize("statement,defect", [
    ({"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "iam:*", "Resource": "*"}, "exactly one of Action and NotAction"),
    ({"Effect": "Allow", "Action": "s3:GetObject"}, "exactly one of Resource and NotResource"),
])
def test_ambiguous_statements_fail_closed(statement, defect):
    outcome = run(POLICY, with_role_document(policy_doc(statement)))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(defect in m for m in outcome.messages)

