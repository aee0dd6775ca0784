import dataclasses
import json

import pytest

from keyguard_policies.documents import IDENTITY, locations
from tests.baseline import (ACCOUNT, APP, BUCKET, BUCKET_ARN, KEY_ARN, OBJECTS, OTHER_KEY, UNKNOWN, allow, baseline,
                            document_carriers, make, malformed_documents, policy_doc, raw_carriers, role_document, run,
                            with_props, with_role_document)

POLICY = "iam-resources-scoped-to-stack"
OTHER_BUCKET = "arn:aws:s3:::someone-elses-bucket"
ALIAS_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ai-app-data"


def _identity_carriers(doc):
    return [c for c in document_carriers(doc) if locations()[c.type][0]["kind"] == IDENTITY]


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "pass"


@pytest.mark.parametrize("arn", [BUCKET_ARN, OBJECTS, f"{BUCKET_ARN}/models/*", KEY_ARN, ALIAS_ARN])
def test_own_bucket_objects_key_and_alias_pass(arn):
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", "kms:Decrypt"], arn))))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("arn", [OTHER_BUCKET, f"{OTHER_BUCKET}/*", OTHER_KEY, f"arn:aws:s3:::{BUCKET}*",
                                 "arn:aws:s3:::*", "arn:aws:kms:*:*:key/*",
                                 f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/someone-elses"])
def test_other_resources_are_flagged_on_the_role(arn):
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", "kms:Decrypt"], [OBJECTS, arn]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(arn in m for m in outcome.messages)


def test_message_for_another_bucket():
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:GetObject", f"{OTHER_BUCKET}/*"))))
    assert outcome.messages == [f"policyDocument statement #1 grants {OTHER_BUCKET}/*, which is not this stack's "
                                "bucket, its objects or its key"]


@pytest.mark.parametrize("action", ["s3:GetObject", "kms:Decrypt", "s3:*", ["sts:GetCallerIdentity", "s3:ListBucket"]])
def test_star_with_s3_or_kms_actions_is_flagged(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(action, "*"))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("every bucket or key" in m for m in outcome.messages)


@pytest.mark.parametrize("action", ["sts:GetCallerIdentity", "dynamodb:GetItem"])
def test_star_with_other_services_is_not_this_policys_concern(action):
    assert run(POLICY, with_role_document(policy_doc(allow(action, "*")))).status == "pass"


@pytest.mark.parametrize("action", ["s3:ListAllMyBuckets", ["kms:ListKeys", "kms:ListAliases"]])
def test_star_for_actions_that_support_only_star_passes(action):
    # they reach no particular bucket or key (iam-no-wildcard-resources exempts them likewise)
    assert run(POLICY, with_role_document(policy_doc(allow(action, "*")))).status == "pass"


def test_non_s3_kms_arns_are_not_judged():
    doc = policy_doc(allow("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/other"))
    assert run(POLICY, with_role_document(doc)).status == "pass"


@pytest.mark.parametrize("pattern", [OTHER_BUCKET, "arn:aws:s3:::someone-*", "arn:aws:s3:::someone-elses-bucket*",
                                     "arn:aws:s3:::?omeone-elses-bucket"])
def test_allowed_resource_arns_parameter_takes_effect(pattern):
    resources = with_role_document(policy_doc(allow("s3:ListBucket", OTHER_BUCKET)))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-role")}
    assert run(POLICY, resources, {"allowedResourceArns": [pattern]}).status == "pass"


def test_allowed_resource_arns_is_not_a_prefix_match():
    resources = with_role_document(policy_doc(allow("s3:GetObject", f"{OTHER_BUCKET}/*")))
    assert run(POLICY, resources, {"allowedResourceArns": [OTHER_BUCKET]}).violations == {(POLICY, "ai-app-role")}


def test_allowed_star_admits_star():
    resources = with_role_document(policy_doc(allow("s3:GetObject", "*")))
    assert run(POLICY, resources, {"allowedResourceArns": ["*"]}).status == "pass"


def test_deny_statements_are_not_judged():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": "s3:*", "Resource": [OTHER_BUCKET, "*"]})
    assert run(POLICY, with_role_document(doc)).status == "pass"


def test_bucket_and_key_policies_are_not_subjects():
    resources = baseline()
    resources["bucket_policy"] = with_props(resources["bucket_policy"], policy=json.dumps(
        policy_doc(allow("s3:GetObject", f"{OTHER_BUCKET}/*", Principal=APP))))
    resources["key"] = with_props(resources["key"], policy=policy_doc(allow("kms:Decrypt", OTHER_KEY, Principal=APP)))
    assert run(POLICY, resources).status == "pass"


def test_bucket_name_unknown_is_unverifiable():
    resources = baseline()
    resources["bucket"] = dataclasses.replace(with_props(resources["bucket"], bucket=UNKNOWN), outputs={})
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:GetObject", f"{OTHER_BUCKET}/*")),
                                             resources=resources))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role"), (POLICY, "vault-user-boundary")}
    assert outcome.status == "unverifiable"


def test_key_arn_unknown_is_unverifiable():
    resources = baseline()
    resources["key"] = dataclasses.replace(resources["key"], outputs={})
    outcome = run(POLICY, with_role_document(policy_doc(allow("kms:Decrypt", OTHER_KEY)), resources=resources))
    assert outcome.violations == set()
    assert (POLICY, "ai-app-role") in outcome.unverifiable


def test_star_is_flagged_even_when_names_are_unknown():
    resources = baseline()
    resources["bucket"] = dataclasses.replace(with_props(resources["bucket"], bucket=UNKNOWN), outputs={})
    outcome = run(POLICY, with_role_document(policy_doc(allow("s3:GetObject", "*")), resources=resources))
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", f"{OTHER_BUCKET}/*")}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_identity_document_location_and_form():
    carriers = _identity_carriers(policy_doc(allow("s3:GetObject", f"{OTHER_BUCKET}/*")))
    assert len(carriers) == 12  # 6 identity locations x (string, object)
    outcome = run(POLICY, [*baseline().values(), *carriers])
    assert outcome.violations == {(POLICY, c.name) for c in carriers}


def test_every_identity_document_location_and_form_passes_when_scoped():
    carriers = _identity_carriers(policy_doc(allow("s3:GetObject", OBJECTS), allow("kms:Decrypt", KEY_ARN)))
    assert run(POLICY, [*baseline().values(), *carriers]).status == "pass"


def test_two_documents_one_bad():
    resources = baseline()
    resources["user_policy"] = make("aws:iam/userPolicy:UserPolicy", "ops",
                                    {"policy": policy_doc(allow("kms:Decrypt", OTHER_KEY))})
    assert run(POLICY, resources).violations == {(POLICY, "ops")}


@pytest.mark.parametrize("value,defect", malformed_documents(principal=None))
def test_malformed_document_fails_closed_everywhere(value, defect):
    carriers = raw_carriers(value, kinds={IDENTITY})
    outcome = run(POLICY, [*baseline().values(), *carriers])
    assert outcome.violations == {(POLICY, c.name) for c in carriers}
    assert all(defect in m for m in outcome.messages), outcome.messages

