import dataclasses

import pytest

from tests.baseline import (BUCKET, BUCKET_ARN, BUCKET_URN, DELETE, KEY_ARN, KEY_ID, KEY_URN, OTHER_KEY, UNKNOWN,
                            baseline, make, run, urn, with_props)

POLICY = "s3-bucket-sse-uses-stack-key"
ALIAS_URN = urn("aws:kms/alias:Alias", "ai-app-kms-alias")


def _with_key(resources, key, rules_deps=(), algorithm="aws:kms"):
    default = {"sseAlgorithm": algorithm}
    if key is not DELETE:
        default["kmsMasterKeyId"] = key
    enc = with_props(resources["encryption"], rules=[{"applyServerSideEncryptionByDefault": default,
                                                      "bucketKeyEnabled": True}])
    deps = {"bucket": (BUCKET_URN,)}
    if rules_deps:
        deps["rules"] = tuple(rules_deps)
    resources["encryption"] = dataclasses.replace(enc, property_dependencies=deps,
                                                  dependencies=tuple(sorted({u for v in deps.values() for u in v})))
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "pass"


@pytest.mark.parametrize("key", [KEY_ARN, KEY_ID, "alias/ai-app-data",
                                 "arn:aws:kms:us-east-1:123456789012:alias/ai-app-data"])
def test_stack_key_by_literal_identifier_passes(key):
    outcome = run(POLICY, _with_key(baseline(), key))
    assert outcome.violations == set() and outcome.status == "pass"


def test_key_of_another_account_flags_the_encryption_resource():
    outcome = run(POLICY, _with_key(baseline(), OTHER_KEY))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any(OTHER_KEY in m and "does not manage" in m for m in outcome.messages)


def test_unset_key_is_flagged():
    outcome = run(POLICY, _with_key(baseline(), DELETE))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}


def test_aws_managed_alias_is_flagged():
    outcome = run(POLICY, _with_key(baseline(), "alias/aws/s3"))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}


def test_alias_not_in_stack_is_flagged():
    outcome = run(POLICY, _with_key(baseline(), "alias/someone-elses"))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}


def test_unknown_key_with_dependency_on_stack_key_passes():
    outcome = run(POLICY, _with_key(baseline(), UNKNOWN, [KEY_URN]))
    assert outcome.violations == set() and outcome.unverifiable == set() and outcome.status == "pass"


def test_unknown_key_with_dependency_on_stack_alias_passes():
    outcome = run(POLICY, _with_key(baseline(), UNKNOWN, [ALIAS_URN]))
    assert outcome.status == "pass"


def test_unknown_key_without_dependency_is_unverifiable():
    outcome = run(POLICY, _with_key(baseline(), UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}
    assert outcome.status == "unverifiable"


def test_unknown_algorithm_is_unverifiable():
    outcome = run(POLICY, _with_key(baseline(), KEY_ARN, algorithm=UNKNOWN))
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}
    assert outcome.violations == set()


def test_literal_arn_while_stack_key_arns_unknown_is_unverifiable():
    resources = _with_key(baseline(), OTHER_KEY)
    resources["key"] = dataclasses.replace(resources["key"], outputs={})
    resources["alias"] = dataclasses.replace(resources["alias"], outputs={})
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}


def test_aes256_is_not_this_policys_concern():
    outcome = run(POLICY, _with_key(baseline(), DELETE, algorithm="AES256"))
    assert outcome.violations == set() and outcome.status == "pass"


def test_inline_bucket_form_with_foreign_key_flags_the_bucket():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucket:Bucket", "ai-app-data", {"bucket": BUCKET, "serverSideEncryptionConfiguration": {
        "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": OTHER_KEY}}}},
        {"id": BUCKET, "arn": BUCKET_ARN})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_bucket_v2_inline_form_with_stack_key_dependency_passes():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucketV2:BucketV2", "ai-app-data", {"bucket": BUCKET, "serverSideEncryptionConfigurations": [{
        "rules": [{"applyServerSideEncryptionByDefaults": [{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}]}]}]},
        {"id": BUCKET, "arn": BUCKET_ARN}, deps={"serverSideEncryptionConfigurations": [KEY_URN]})
    assert run(POLICY, resources).status == "pass"


def test_two_buckets_one_with_foreign_key():
    resources = baseline()
    other = "ai-app-logs-77aa"
    resources["bucket2"] = make("aws:s3/bucket:Bucket", "ai-app-logs", {"bucket": other},
                                {"id": other, "arn": f"arn:aws:s3:::{other}"})
    resources["encryption2"] = make(resources["encryption"].type, "ai-app-logs-encryption", {
        "bucket": other, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                           "kmsMasterKeyId": OTHER_KEY}}]},
        deps={"bucket": [resources["bucket2"].urn]})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-logs-encryption")}


def test_no_encryption_is_left_to_s3_bucket_sse_kms_cmk():
    resources = baseline()
    del resources["encryption"]
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == set()


def test_configuration_with_unknown_target_is_unverifiable_not_a_silent_pass():
    # it may configure this bucket, with a key this stack does not manage
    resources = baseline()
    resources["encryption"] = make(resources["encryption"].type, "ai-app-data-encryption", {
        "bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                              "kmsMasterKeyId": OTHER_KEY}}]})
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data")}
