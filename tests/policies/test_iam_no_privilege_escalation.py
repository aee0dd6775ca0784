import dataclasses
import json

import pytest

from keyguard_policies.documents import locations
from tests.baseline import (ACCOUNT, BUCKET_ARN, KEY_ARN, UNKNOWN, baseline, document_carriers, make,
                            role_document, run, with_props)

POLICY = "iam-no-privilege-escalation"
OBJECTS = f"{BUCKET_ARN}/*"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ai-app-worker"
ROOT = {"Sid": "EnableRoot", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}
APP = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}
KEY_POLICY_JUDGES = ["iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-action-resource-match", POLICY]


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource="*", **extra):
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


def test_pass_role_scoped_to_one_role_is_still_flagged():
    outcome = run(POLICY, _role(_doc(_allow("iam:PassRole", ROLE_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 grants privilege-escalation action(s) iam:PassRole"]


@pytest.mark.parametrize("action", ["iam:*", "iam:Put*Policy", "*", "iam:passrole", "iam:Pass*", "iam:Attach*Policy",
                                    "iam:CreateAccessKey", "iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy",
                                    "sts:AssumeRole", "sts:*", "lambda:UpdateFunctionCode", "*:*"])
def test_escalation_actions_are_flagged(action):
    outcome = run(POLICY, _role(_doc(_allow(["s3:GetObject", action], [OBJECTS, ROLE_ARN]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_put_policy_pattern_names_the_actions():
    outcome = run(POLICY, _role(_doc(_allow("iam:Put*Policy"))))
    [message] = outcome.messages
    assert "iam:PutGroupPolicy" in message and "iam:PutRolePolicy" in message and "iam:PutUserPolicy" in message


def test_not_action_allow_is_flagged():
    outcome = run(POLICY, _role(_doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_not_action_excluding_every_escalation_action_passes():
    doc = _doc({"Effect": "Allow", "NotAction": ["iam:*", "sts:*", "glue:*", "lambda:*"], "Resource": OBJECTS})
    assert run(POLICY, _role(doc)).violations == set()


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "iam:GetRole",
                                    "iam:ListRoles", "sts:GetCallerIdentity", "s3:Put*"])
def test_harmless_actions_pass(action):
    assert run(POLICY, _role(_doc(_allow(action)))).status == "pass"


def test_escalation_in_deny_is_fine():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": ["iam:*", "sts:AssumeRole"], "Resource": "*"})
    assert run(POLICY, _role(doc)).status == "pass"


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": _allow("sts:AssumeRole", ROLE_ARN)}
    assert run(POLICY, _role(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_document_location_and_form():
    carriers = document_carriers(_doc(_allow("iam:PassRole", ROLE_ARN)))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(_doc(_allow("s3:GetObject", OBJECTS)))
    assert run(POLICY, carriers).status == "pass"


def test_key_policy_root_delegation_is_not_a_violation():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=_doc(ROOT))
    assert run(POLICY, resources).status == "pass"


def test_key_policy_granting_pass_role_is_judged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=_doc(ROOT, _allow("iam:PassRole", Principal=APP)))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


# The KMS key policy semantics the four least-privilege policies share (SPEC: Policy catalog)

def _key_with(statement, key_arn_known=True, form="string"):
    resources = baseline()
    doc = _doc(statement)
    key = with_props(resources["key"], policy=json.dumps(doc) if form == "string" else doc)
    resources["key"] = key if key_arn_known else dataclasses.replace(key, outputs={})
    return resources


@pytest.mark.parametrize("policy", KEY_POLICY_JUDGES)
@pytest.mark.parametrize("principal", [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                                       {"AWS": ACCOUNT}])
@pytest.mark.parametrize("form", ["string", "object"])
def test_default_root_delegation_is_not_a_violation(policy, principal, form):
    outcome = run(policy, _key_with(dict(ROOT, Principal=principal), form=form))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("policy", KEY_POLICY_JUDGES)
def test_default_root_delegation_on_a_key_policy_resource(policy):
    resources = baseline()
    resources["key_policy"] = make("aws:kms/keyPolicy:KeyPolicy", "key-policy", {"keyId": KEY_ARN, "policy": _doc(ROOT)})
    assert run(policy, resources).status == "pass"


def test_another_accounts_root_with_kms_star_is_judged():
    other = dict(ROOT, Principal={"AWS": "arn:aws:iam::999999999999:root"})
    assert run("iam-no-wildcard-actions", _key_with(other)).violations == {("iam-no-wildcard-actions", "ai-app-kms-key")}
    resources = baseline()
    resources["key_policy"] = make("aws:kms/keyPolicy:KeyPolicy", "key-policy", {"keyId": KEY_ARN, "policy": _doc(other)})
    assert run("iam-no-wildcard-actions", resources).violations == {("iam-no-wildcard-actions", "key-policy")}


@pytest.mark.parametrize("changes", [{"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                                     {"Resource": KEY_ARN}, {"Action": ["kms:*", "iam:PassRole"]}])
def test_statements_that_only_resemble_the_default_are_judged(changes):
    outcome = run("iam-no-wildcard-actions", _key_with(dict(ROOT, **changes)))
    assert outcome.violations == {("iam-no-wildcard-actions", "ai-app-kms-key")}


# fail closed and unknown

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
