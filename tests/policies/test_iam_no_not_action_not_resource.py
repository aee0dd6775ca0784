import json

import pytest

from keyguard_policies.documents import locations
from tests.baseline import (ACCOUNT, BUCKET_ARN, UNKNOWN, baseline, document_carriers, make, role_document, run,
                            with_props)

POLICY = "iam-no-not-action-not-resource"
OBJECTS = f"{BUCKET_ARN}/*"
APP = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _role(doc, form="string"):
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(doc) if form == "string" else doc)
    return resources


def _bucket_policy(doc):
    resources = baseline()
    resources["bucket_policy"] = with_props(resources["bucket_policy"], policy=json.dumps(doc))
    return resources


def _raw_carriers(value):
    out = []
    for type_, specs in locations().items():
        prop = specs[0]["property"]
        props = {"inlinePolicies": [{"name": "i", "policy": value}]} if prop == "inlinePolicies[].policy" else {prop: value}
        out.append(make(type_, "raw-" + type_.split(":")[-1].lower(), props))
    return out


MALFORMED = [
    ("{not json", "is not valid JSON"),
    ({"Version": "2012-10-17"}, "has no Statement"),
    (_doc({"Effect": "allow", "Principal": APP, "Action": "s3:GetObject", "Resource": "*"}), "Effect is 'allow'"),
    (_doc({"Effect": "Allow", "Principal": APP, "Action": 42, "Resource": "*"}), "Action contains 42"),
]


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


def test_not_action_with_allow_is_flagged():
    outcome = run(POLICY, _role(_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": OBJECTS})))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 uses NotAction with Allow"]


def test_not_resource_with_allow_is_flagged():
    outcome = run(POLICY, _role(_doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": [OBJECTS]})))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 uses NotResource with Allow"]


def test_both_in_one_statement_are_named():
    outcome = run(POLICY, _role(_doc({"Sid": "Wide", "Effect": "Allow", "NotAction": "iam:*", "NotResource": OBJECTS})))
    assert outcome.messages == ["policyDocument statement 'Wide' uses NotAction and NotResource with Allow"]


def test_not_action_and_not_resource_with_deny_are_fine():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "NotAction": "s3:GetObject", "NotResource": OBJECTS})
    assert run(POLICY, _role(doc)).status == "pass"


def test_not_principal_with_allow_in_bucket_policy_is_flagged():
    doc = _doc({"Effect": "Allow", "NotPrincipal": APP, "Action": "s3:GetObject", "Resource": OBJECTS})
    outcome = run(POLICY, _bucket_policy(doc))
    assert outcome.violations == {(POLICY, "ai-app-data-tls-only")}
    assert outcome.messages == ["policy statement #1 uses NotPrincipal with Allow"]


def test_not_principal_with_deny_in_bucket_policy_is_fine():
    doc = _doc({"Effect": "Deny", "NotPrincipal": APP, "Action": "s3:DeleteObject", "Resource": OBJECTS})
    assert run(POLICY, _bucket_policy(doc)).status == "pass"


def test_not_principal_with_allow_in_key_policy_is_flagged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=_doc(
        {"Effect": "Allow", "NotPrincipal": APP, "Action": "kms:Decrypt", "Resource": "*"}))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


def test_baseline_tls_only_bucket_policy_passes():
    assert run(POLICY, _bucket_policy(_doc({"Effect": "Allow", "Principal": APP, "Action": "s3:GetObject",
                                            "Resource": OBJECTS}))).status == "pass"


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}
    assert run(POLICY, _role(doc, form)).violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("statement", [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": OBJECTS},
                                       {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECTS}])
def test_every_document_location_and_form(statement):
    carriers = document_carriers(_doc(statement))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS}))
    assert run(POLICY, carriers).status == "pass"


@pytest.mark.parametrize("value,defect", MALFORMED)
def test_malformed_document_fails_closed_everywhere(value, defect):
    carriers = _raw_carriers(value)
    outcome = run(POLICY, carriers)
    assert outcome.violations == {(POLICY, c.name) for c in carriers}
    assert all(defect in m for m in outcome.messages), outcome.messages


@pytest.mark.parametrize("statement,defect", [
    ({"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "iam:*", "Resource": "*"}, "exactly one of Action and NotAction"),
    ({"Effect": "Allow", "Action": "s3:GetObject"}, "exactly one of Resource and NotResource"),
])
def test_ambiguous_statements_fail_closed(statement, defect):
    outcome = run(POLICY, _role(_doc(statement)))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(defect in m for m in outcome.messages)


def test_unknown_document_is_unverifiable():
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}
