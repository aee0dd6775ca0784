import json

import pytest

from tests.baseline import ACCOUNT, KEY_ARN, KEY_ID, ROOT, UNKNOWN, baseline, make, run, with_props

POLICY = "kms-key-policy-no-public-principal"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def _statement(principal, condition=None, effect="Allow"):
    s = {"Sid": "Use", "Effect": effect, "Principal": principal, "Action": ["kms:Decrypt"], "Resource": "*"}
    if condition is not None:
        s["Condition"] = condition
    return s


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": [ROOT, *statements]}


def _on_key(doc, form="string", **changes):
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=json.dumps(doc) if form == "string" else doc, **changes)
    return resources


def _on_key_policy(doc, form="string", **changes):
    resources = baseline()
    resources["key_policy"] = make(KEY_POLICY, "ai-app-key-policy", {
        "keyId": KEY_ID, "policy": json.dumps(doc) if form == "string" else doc, **changes})
    return resources


CARRIERS = [(_on_key, "ai-app-kms-key"), (_on_key_policy, "ai-app-key-policy")]
PUBLIC = ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app", "*"]}]


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("carrier,name", CARRIERS)
@pytest.mark.parametrize("form", ["string", "object"])
def test_named_principals_pass(carrier, name, form):
    doc = _doc(_statement({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}))
    outcome = run(POLICY, carrier(doc, form))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("carrier,name", CARRIERS)
@pytest.mark.parametrize("form", ["string", "object"])
@pytest.mark.parametrize("principal", PUBLIC)
def test_public_principal_is_flagged(carrier, name, form, principal):
    outcome = run(POLICY, carrier(_doc(_statement(principal)), form))
    assert outcome.violations == {(POLICY, name)}
    assert any('principal "*"' in m for m in outcome.messages)


@pytest.mark.parametrize("carrier,name", CARRIERS)
@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringEquals": {"aws:principalaccount": [ACCOUNT]}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}},
])
def test_public_principal_with_account_condition_passes(carrier, name, condition):
    outcome = run(POLICY, carrier(_doc(_statement("*", condition))))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},   # not about the caller's account
    {"StringLike": {"aws:PrincipalAccount": "*"}},                         # restricts nothing
    {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}},           # absent key passes
    {"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}},         # everyone but one account
    {"Null": {"aws:PrincipalAccount": "false"}},                           # only that the key exists
    {},
])
def test_public_principal_with_non_restricting_condition_is_flagged(condition):
    outcome = run(POLICY, _on_key(_doc(_statement({"AWS": "*"}, condition))))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}


def test_public_deny_is_fine():
    outcome = run(POLICY, _on_key(_doc(_statement("*", effect="Deny"))))
    assert outcome.violations == set()


def test_root_delegation_passes():
    assert run(POLICY, _on_key(_doc())).status == "pass"


@pytest.mark.parametrize("carrier,name", CARRIERS)
@pytest.mark.parametrize("value", [True, "true"])
def test_bypass_lockout_safety_check_is_flagged(carrier, name, value):
    outcome = run(POLICY, carrier(_doc(), bypassPolicyLockoutSafetyCheck=value))
    assert outcome.violations == {(POLICY, name)}
    assert any("bypassPolicyLockoutSafetyCheck" in m for m in outcome.messages)


def test_bypass_false_passes():
    assert run(POLICY, _on_key(_doc(), bypassPolicyLockoutSafetyCheck=False)).status == "pass"


def test_bypass_without_a_policy_is_flagged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], bypassPolicyLockoutSafetyCheck=True)
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


def test_bypass_unknown_is_unverifiable():
    outcome = run(POLICY, _on_key(_doc(), bypassPolicyLockoutSafetyCheck=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-kms-key")}


def test_single_statement_object_form():
    doc = {"Version": "2012-10-17", "Statement": _statement("*")}
    assert run(POLICY, _on_key(doc)).violations == {(POLICY, "ai-app-kms-key")}


def test_two_keys_one_public():
    resources = _on_key(_doc())
    resources["key2"] = make("aws:kms/key:Key", "shared-key", {"policy": json.dumps(_doc(_statement("*")))},
                             {"arn": KEY_ARN.replace(KEY_ID, "other")})
    assert run(POLICY, resources).violations == {(POLICY, "shared-key")}


@pytest.mark.parametrize("carrier,name", CARRIERS)
@pytest.mark.parametrize("policy,defect", [
    ("{not json", "not valid JSON"),
    ({"Version": "2012-10-17"}, "no Statement"),
    ({"Statement": [dict(ROOT, Effect="allow")]}, "Effect"),
    ({"Statement": [dict(ROOT, Action=42)]}, "Action"),
    ({"Statement": [{k: v for k, v in ROOT.items() if k != "Principal"}]}, "no Principal"),
])
def test_malformed_policy_fails_closed(carrier, name, policy, defect):
    resources = carrier({"Statement": []})
    key = "key" if name == "ai-app-kms-key" else "key_policy"
    resources[key] = with_props(resources[key], policy=policy)
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, name)}
    assert any(defect in m for m in outcome.messages), outcome.messages


@pytest.mark.parametrize("carrier,name", CARRIERS)
def test_unknown_policy_is_unverifiable(carrier, name):
    resources = carrier({"Statement": []})
    key = "key" if name == "ai-app-kms-key" else "key_policy"
    resources[key] = with_props(resources[key], policy=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, name)}
