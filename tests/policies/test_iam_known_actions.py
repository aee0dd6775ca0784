import pytest

from tests.baseline import (KEY_ARN, OBJECTS, ROOT, allow, baseline, document_carriers, policy_doc, role_document,
                            run, with_props, with_role_document)

POLICY = "iam-known-actions"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("action", ["s3:GetObject", "S3:getobject", "s3:Get*", "s3:*", "*", "kms:Decrypt",
                                    "s3:?etObject", "*:GetObject", "kms:GenerateDataKey*"])
def test_known_actions_and_matching_patterns_pass(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, OBJECTS))))
    assert outcome.violations == set() and outcome.status == "pass"


def test_typo_is_flagged_with_a_hint():
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", "s3:GetObjects"], OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1: 's3:GetObjects' is not a known action "
                                "(did you mean s3:GetObject?)"]


def test_unknown_service_prefix_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s4:GetObject", OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1: 's4:GetObject' has an unknown service prefix 's4'"]


@pytest.mark.parametrize("action", ["s3GetObject", "s3:", ":GetObject",
                                    # wildcards that do match catalog actions, but without the colon IAM demands
                                    "s3*", "*Object", "**", "S3?GetObject"])
def test_action_without_service_form_is_flagged(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("is not of the form service:Action" in m for m in outcome.messages)


@pytest.mark.parametrize("action", ["s3:Nope*", "nosuchservice:*", "s3:Get?bjects"])
def test_pattern_matching_nothing_is_flagged(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"{action!r} matches no known action" in m for m in outcome.messages)


def test_typo_in_deny_is_flagged():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:DeleteObjects", "Resource": OBJECTS})
    outcome = run(POLICY, with_role_document(doc))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("'s3:DeleteObjects'" in m for m in outcome.messages)


def test_typo_in_not_action_is_flagged():
    doc = policy_doc({"Effect": "Deny", "NotAction": ["s3:GetObjekt"], "Resource": OBJECTS},
                     allow("s3:GetObject", OBJECTS))
    outcome = run(POLICY, with_role_document(doc))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("'s3:GetObjekt'" in m and "did you mean s3:GetObject" in m for m in outcome.messages)


def test_each_unknown_action_gets_a_message():
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObjects", "kms:Decrypts"], OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert len(outcome.messages) == 2


def test_typo_in_root_delegation_shaped_statement_is_flagged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=policy_doc(dict(ROOT, Action="kms:Decryp")))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": allow("s3:GetObjects", OBJECTS)}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_document_location_and_form():
    carriers = document_carriers(policy_doc(allow("s3:GetObjects", OBJECTS)))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(policy_doc(allow(["s3:GetObject", "kms:Decrypt"], [OBJECTS, KEY_ARN])))
    assert run(POLICY, carriers).status == "pass"


