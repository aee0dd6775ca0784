import json

import pytest

from keyguard_policies.documents import locations
from tests.baseline import (ACCOUNT, BUCKET_ARN, KEY_ARN, UNKNOWN, baseline, document_carriers, make, role_document,
                            run, with_props)

POLICY = "iam-known-actions"
OBJECTS = f"{BUCKET_ARN}/*"
ROOT = {"Sid": "EnableRoot", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}
APP = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource=OBJECTS, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _role(doc, form="string"):
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(doc) if form == "string" else doc)
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


@pytest.mark.parametrize("action", ["s3:GetObject", "S3:getobject", "s3:Get*", "s3:*", "*", "kms:Decrypt",
                                    "s3:?etObject", "*:GetObject", "kms:GenerateDataKey*"])
def test_known_actions_and_matching_patterns_pass(action):
    outcome = run(POLICY, _role(_doc(_allow(action))))
    assert outcome.violations == set() and outcome.status == "pass"


def test_typo_is_flagged_with_a_hint():
    outcome = run(POLICY, _role(_doc(_allow(["s3:GetObject", "s3:GetObjects"]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1: 's3:GetObjects' is not a known action "
                                "(did you mean s3:GetObject?)"]


def test_unknown_service_prefix_is_flagged():
    outcome = run(POLICY, _role(_doc(_allow("s4:GetObject"))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1: 's4:GetObject' has an unknown service prefix 's4'"]


@pytest.mark.parametrize("action", ["s3GetObject", "s3:", ":GetObject"])
def test_action_without_service_form_is_flagged(action):
    outcome = run(POLICY, _role(_doc(_allow(action))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("is not of the form service:Action" in m for m in outcome.messages)


@pytest.mark.parametrize("action", ["s3:Nope*", "nosuchservice:*", "s3:Get?bjects"])
def test_pattern_matching_nothing_is_flagged(action):
    outcome = run(POLICY, _role(_doc(_allow(action))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"{action!r} matches no known action" in m for m in outcome.messages)


def test_typo_in_deny_is_flagged():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:DeleteObjects", "Resource": OBJECTS})
    outcome = run(POLICY, _role(doc))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("'s3:DeleteObjects'" in m for m in outcome.messages)


def test_typo_in_not_action_is_flagged():
    doc = _doc({"Effect": "Deny", "NotAction": ["s3:GetObjekt"], "Resource": OBJECTS}, _allow("s3:GetObject"))
    outcome = run(POLICY, _role(doc))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("'s3:GetObjekt'" in m and "did you mean s3:GetObject" in m for m in outcome.messages)


def test_each_unknown_action_gets_a_message():
    outcome = run(POLICY, _role(_doc(_allow(["s3:GetObjects", "kms:Decrypts"]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert len(outcome.messages) == 2


def test_typo_in_root_delegation_shaped_statement_is_flagged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=_doc(dict(ROOT, Action="kms:Decryp")))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": _allow("s3:GetObjects")}
    assert run(POLICY, _role(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_document_location_and_form():
    carriers = document_carriers(_doc(_allow("s3:GetObjects")))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(_doc(_allow(["s3:GetObject", "kms:Decrypt"], [OBJECTS, KEY_ARN])))
    assert run(POLICY, carriers).status == "pass"


@pytest.mark.parametrize("value,defect", MALFORMED)
def test_malformed_document_fails_closed_everywhere(value, defect):
    carriers = _raw_carriers(value)
    outcome = run(POLICY, carriers)
    assert outcome.violations == {(POLICY, c.name) for c in carriers}
    assert all(defect in m for m in outcome.messages), outcome.messages


def test_unknown_document_is_unverifiable():
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}
