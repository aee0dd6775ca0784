import dataclasses

import pytest

from tests.baseline import (BUCKET, BUCKET_ARN, BUCKET_URN, DELETE, KEY_ARN, KEY_URN, OTHER_KEY, UNKNOWN, T,
                            baseline, baseline_with, make, run, with_props)

POLICY = "kms-key-symmetric-for-sse"


def _encryption_key(resources, key, deps=True, algorithm="aws:kms"):
    enc = with_props(resources["encryption"], rules=[{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": algorithm, "kmsMasterKeyId": key}}])
    prop_deps = {"bucket": (BUCKET_URN,), **({"rules": (KEY_URN,)} if deps else {})}
    resources["encryption"] = dataclasses.replace(enc, property_dependencies=prop_deps,
                                                  dependencies=tuple(sorted({u for v in prop_deps.values() for u in v})))
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("changes", [{"customerMasterKeySpec": "RSA_2048"},
                                     {"customerMasterKeySpec": "ECC_NIST_P256", "keyUsage": "SIGN_VERIFY"},
                                     {"customerMasterKeySpec": "HMAC_256", "keyUsage": "GENERATE_VERIFY_MAC"},
                                     {"customerMasterKeySpec": DELETE, "keySpec": "RSA_4096"},
                                     {"keyUsage": "SIGN_VERIFY"}])
def test_unsuitable_key_used_by_the_encryption_config_is_flagged_on_the_key(changes):
    outcome = run(POLICY, baseline_with("key", **changes))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert outcome.status == "fail"


def test_message_names_spec():
    outcome = run(POLICY, baseline_with("key", customerMasterKeySpec="RSA_2048"))
    assert any("RSA_2048" in m and "SYMMETRIC_DEFAULT" in m for m in outcome.messages)


def test_key_defaults_are_symmetric():
    assert run(POLICY, baseline_with("key", customerMasterKeySpec=DELETE, keyUsage=DELETE)).status == "pass"


def test_asymmetric_key_not_used_by_s3_is_not_judged():
    resources = baseline()
    resources["signing"] = make(T["key"], "signing-key",
                                {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"},
                                {"arn": "arn:aws:kms:us-east-1:123456789012:key/sign"})
    assert run(POLICY, resources).violations == set()


def test_key_matched_by_literal_arn():
    resources = _encryption_key(baseline_with("key", customerMasterKeySpec="RSA_2048"), KEY_ARN, deps=False)
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


def test_key_matched_through_alias():
    resources = _encryption_key(baseline_with("key", customerMasterKeySpec="RSA_2048"), "alias/ai-app-data", deps=False)
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


def test_key_outside_the_stack_is_not_applicable():
    outcome = run(POLICY, _encryption_key(baseline(), OTHER_KEY, deps=False))
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "not-applicable"


def test_unknown_key_with_dependency_on_the_stack_key_is_judged():
    resources = _encryption_key(baseline_with("key", customerMasterKeySpec="RSA_2048"), UNKNOWN)
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}
    assert run(POLICY, _encryption_key(baseline(), UNKNOWN)).status == "pass"


def test_unknown_key_without_dependency_is_unverifiable():
    outcome = run(POLICY, _encryption_key(baseline(), UNKNOWN, deps=False))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}
    assert outcome.status == "unverifiable"


def test_unknown_key_spec_is_unverifiable():
    outcome = run(POLICY, baseline_with("key", customerMasterKeySpec=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-kms-key")}


def test_malformed_key_spec_fails_closed():
    outcome = run(POLICY, baseline_with("key", keyUsage=["ENCRYPT_DECRYPT"]))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert all("malformed input" in m for m in outcome.messages)


def test_aes256_encryption_does_not_use_the_key():
    resources = _encryption_key(baseline_with("key", customerMasterKeySpec="RSA_2048"), KEY_ARN, algorithm="AES256")
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.status == "not-applicable"


def test_inline_bucket_encryption_is_a_use():
    resources = baseline_with("key", customerMasterKeySpec="RSA_2048")
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucketV2:BucketV2", "ai-app-data", {
        "bucket": BUCKET, "serverSideEncryptionConfigurations": [{"rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms:dsse", "kmsMasterKeyId": KEY_ARN}}]}]}, {"arn": BUCKET_ARN})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("type_", ["aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"])
def test_object_kms_key_is_a_use(type_):
    resources = baseline()
    resources["signing"] = make(T["key"], "signing-key", {"customerMasterKeySpec": "RSA_2048"},
                                {"arn": "arn:aws:kms:us-east-1:123456789012:key/sign"})
    resources["object"] = make(type_, "weights", {"bucket": BUCKET, "serverSideEncryption": "aws:kms",
                                                  "kmsKeyId": UNKNOWN}, deps={"kmsKeyId": [resources["signing"].urn]})
    assert run(POLICY, resources).violations == {(POLICY, "signing-key")}


def test_unknown_rules_still_judge_the_key_they_depend_on():
    """During preview a rule's key ARN makes the whole `rules` unknown (pulumi/pulumi#7854); the
    property dependency still says which stack key encrypts the bucket."""
    from tests.baseline import UNKNOWN, baseline, run, with_props
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], rules=UNKNOWN)
    outcome = run("kms-key-symmetric-for-sse", resources)
    assert outcome.status == "pass" and outcome.violations == set() and outcome.unverifiable == set()
    resources["key"] = with_props(resources["key"], customerMasterKeySpec="RSA_2048")
    assert run("kms-key-symmetric-for-sse", resources).violations == {("kms-key-symmetric-for-sse", "ai-app-kms-key")}
