import json

import pytest

from tests.baseline import (ACCOUNT, APP, BUCKET_ARN, KEY_ARN, OBJECTS, ROOT, UNKNOWN, allow, baseline,
                            document_carriers, make, policy_doc, role_document, run, with_key_policy,
                            with_role_document)

POLICY = "iam-action-resource-match"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("action,resource", [
    ("s3:ListBucket", BUCKET_ARN), ("s3:GetObject", OBJECTS), ("s3:PutObject", f"{BUCKET_ARN}/prefix/*"),
    (["s3:GetObject", "s3:PutObject"], OBJECTS), (["kms:Decrypt", "kms:GenerateDataKey"], KEY_ARN),
    ("s3:ListAllMyBuckets", "*"), ("s3:GetObject", "*"), ("s3:GetObject", "arn:aws:s3:::ai-*"),
    ("s3:Get*", [BUCKET_ARN, OBJECTS]), ("kms:Decrypt", "arn:aws:kms:*:*:key/*"),
])
def test_correct_pairs_pass(action, resource):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, resource))))
    assert outcome.violations == set() and outcome.status == "pass"


def test_list_bucket_on_object_arn_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:ListBucket", OBJECTS))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(m.startswith(f"policyDocument statement #1 grants s3:ListBucket on {OBJECTS}") for m in outcome.messages)


def test_get_object_on_bucket_arn_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:GetObject", BUCKET_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"grants s3:GetObject on {BUCKET_ARN}," in m for m in outcome.messages)


def test_kms_decrypt_on_bucket_arn_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("kms:Decrypt", BUCKET_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"grants kms:Decrypt on {BUCKET_ARN}, which applies to" in m and ":key/" in m
               for m in outcome.messages)


def test_kms_decrypt_on_alias_arn_is_flagged():
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ai-app-data"
    outcome = run(POLICY, with_role_document(policy_doc(allow("kms:Decrypt", alias))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_s3_actions_listing_the_kms_key_arn_are_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", "s3:PutObject"], [OBJECTS, KEY_ARN]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == [f"policyDocument statement #1 lists resource {KEY_ARN}, of a service none of its actions "
                                "(s3:GetObject, s3:PutObject) belongs to"]


def test_list_all_my_buckets_only_supports_star():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:ListAllMyBuckets", BUCKET_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any('which supports only Resource "*"' in m for m in outcome.messages)


def test_pattern_with_no_matching_action_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:List*", KEY_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("none of whose actions apply to them" in m for m in outcome.messages)


def test_unknown_actions_are_left_to_iam_known_actions():
    assert run(POLICY, with_role_document(policy_doc(allow("s3:GetObjects", OBJECTS)))).violations == set()


def test_deny_statements_are_not_judged():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:ListBucket", "Resource": OBJECTS})
    assert run(POLICY, with_role_document(doc)).status == "pass"


def test_not_action_and_not_resource_are_left_to_their_own_policy():
    doc = policy_doc({"Effect": "Allow", "NotAction": "s3:ListBucket", "Resource": OBJECTS},
               {"Effect": "Allow", "Action": "s3:ListBucket", "NotResource": OBJECTS})
    assert run(POLICY, with_role_document(doc)).violations == set()


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": allow("s3:ListBucket", OBJECTS)}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_only_the_bad_statement_is_reported():
    doc = role_document()
    doc["Statement"][2]["Resource"] = [BUCKET_ARN]
    outcome = run(POLICY, with_role_document(doc))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("statement 'UseDataKey'" in m for m in outcome.messages)


def test_every_document_location_and_form():
    carriers = document_carriers(policy_doc(allow(["s3:GetObject", "s3:ListBucket"], [OBJECTS, KEY_ARN])))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes_when_matched():
    carriers = document_carriers(policy_doc(allow("s3:ListBucket", BUCKET_ARN), allow("s3:GetObject", OBJECTS)))
    assert run(POLICY, carriers).status == "pass"


def test_two_resources_one_bad():
    resources = baseline()
    resources["policy"] = make("aws:iam/policy:Policy", "extra",
                               {"policy": json.dumps(policy_doc(allow("kms:Decrypt", OBJECTS)))})
    assert run(POLICY, resources).violations == {(POLICY, "extra")}


# KMS key policies

def test_key_policy_root_delegation_is_not_a_violation():
    assert run(POLICY, with_key_policy(policy_doc(ROOT))).status == "pass"


def test_key_policy_star_is_the_key_for_kms_actions():
    doc = policy_doc(ROOT, allow(["kms:Decrypt", "kms:GenerateDataKey"], "*", Principal=APP))
    assert run(POLICY, with_key_policy(doc)).status == "pass"
    assert run(POLICY, with_key_policy(doc, outputs=False)).status == "pass"


def test_key_policy_star_is_not_an_s3_resource():
    doc = policy_doc(ROOT, allow(["kms:Decrypt", "s3:GetObject"], "*", Principal=APP))
    outcome = run(POLICY, with_key_policy(doc))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert any(f"grants s3:GetObject on {KEY_ARN}" in m for m in outcome.messages)


def test_other_accounts_root_is_judged():
    other = dict(ROOT, Principal={"AWS": "arn:aws:iam::999999999999:root"}, Action=["kms:*", "s3:GetObject"])
    assert run(POLICY, with_key_policy(policy_doc(ROOT, other))).violations == {(POLICY, "ai-app-kms-key")}


# fail closed and unknown



def test_unknown_inline_policies_are_unverifiable():
    resources = baseline()
    resources["iam_role"] = make("aws:iam/role:Role", "app-role", {"inlinePolicies": UNKNOWN})
    outcome = run(POLICY, resources)
    assert outcome.unverifiable == {(POLICY, "app-role")}


@pytest.mark.parametrize("action,resource", [("s3:GetObject", [BUCKET_ARN, "*"]), ("s3:ListBucket", ["*", OBJECTS])])
def test_star_next_to_a_mismatched_arn_does_not_excuse_it(action, resource):
    # adding "*" must not hide a mismatch (iam-no-wildcard-resources judges the "*")
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, resource))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"grants {action} on {[r for r in resource if r != '*'][0]}," in m for m in outcome.messages)
