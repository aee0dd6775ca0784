import json

import pytest

from tests.baseline import (ACCOUNT, APP, BUCKET_ARN, KEY_ARN, KEY_ID, ROOT, UNKNOWN, allow, baseline,
                            document_carriers, make, policy_doc, role_document, run, with_key_policy, with_props,
                            with_role_document)

POLICY = "iam-no-wildcard-resources"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("resource", ["*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:s3:::*/*/*"])
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:ListBucket", ["s3:PutObject", "s3:ListAllMyBuckets"]])
def test_everything_arns_are_flagged_for_s3_resource_level_actions(resource, action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, resource))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(resource in m for m in outcome.messages)


@pytest.mark.parametrize("resource", ["*", "arn:aws:kms:*:*:key/*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*",
                                      "arn:aws:kms:*:*:*", "arn:aws:*:*:*:*"])
def test_everything_arns_are_flagged_for_kms(resource):
    outcome = run(POLICY, with_role_document(policy_doc(allow(["kms:Decrypt", "kms:GenerateDataKey"], resource))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("action", ["s3:ListAllMyBuckets", "sts:GetCallerIdentity", ["kms:ListAliases", "kms:ListKeys"]])
def test_actions_without_resource_level_permissions_may_use_star(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, "*"))))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("resource", ["arn:aws:s3:::ai-*", "arn:aws:s3:::ai-*/*", f"{BUCKET_ARN}/*",
                                      f"{BUCKET_ARN}/prefix/*", KEY_ARN])
def test_scoped_arns_pass(resource):
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", "kms:Decrypt"], resource))))
    assert outcome.violations == set()


def test_pattern_action_on_star_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:Get*", "*"))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_deny_on_star_is_fine():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})
    assert run(POLICY, with_role_document(doc)).status == "pass"


def test_one_wildcard_among_several_resources():
    outcome = run(POLICY, with_role_document(policy_doc(
        allow("s3:GetObject", [f"{BUCKET_ARN}/*", "arn:aws:s3:::*/*"]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "*")}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_document_location_and_form():
    carriers = document_carriers(policy_doc(allow(["s3:GetObject"], ["arn:aws:s3:::*/*"])))
    assert len(carriers) == 18
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes_when_scoped():
    carriers = document_carriers(policy_doc(allow("s3:GetObject", f"{BUCKET_ARN}/*")))
    assert run(POLICY, carriers).status == "pass"


# KMS key policies: Resource "*" is the key itself

def test_key_policy_root_delegation_is_not_a_violation():
    assert run(POLICY, with_key_policy(policy_doc(ROOT))).status == "pass"


@pytest.mark.parametrize("outputs", [True, False])
def test_key_policy_star_means_the_key(outputs):
    doc = policy_doc(ROOT, allow(["kms:Decrypt", "kms:GenerateDataKey"], "*", Principal=APP))
    outcome = run(POLICY, with_key_policy(doc, outputs=outputs))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("key_id", [KEY_ID, KEY_ARN, UNKNOWN])
def test_key_policy_resource_star_means_the_key(key_id):
    resources = baseline()
    resources["key_policy"] = make("aws:kms/keyPolicy:KeyPolicy", "key-policy", {
        "keyId": key_id, "policy": policy_doc(ROOT, allow("kms:Decrypt", "*", Principal=APP))})
    assert run(POLICY, resources).status == "pass"


def test_key_policy_explicit_everything_arn_is_judged():
    doc = policy_doc(ROOT, allow("kms:Decrypt", "arn:aws:kms:*:*:key/*", Principal=APP))
    assert run(POLICY, with_key_policy(doc)).violations == {(POLICY, "ai-app-kms-key")}


def test_bucket_policy_star_is_judged_like_an_identity_policy():
    resources = baseline()
    resources["bucket_policy"] = with_props(resources["bucket_policy"], policy=json.dumps(
        policy_doc(allow("s3:GetObject", "*", Principal=APP))))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data-tls-only")}


# fail closed and unknown



def test_document_with_an_unknown_arn_is_unverifiable():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:GetObject", UNKNOWN)), form="object"))
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}
