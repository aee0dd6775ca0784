import dataclasses

import pytest

from tests.baseline import (BUCKET, BUCKET_ARN, BUCKET_URN, DELETE, ENCRYPTION_V2, KEY_ARN, KEY_URN, UNKNOWN, baseline,
                            make, run, with_props)

POLICY = "s3-bucket-sse-kms-cmk"


def _default(algorithm="aws:kms", key=KEY_ARN, **extra):
    default = {"sseAlgorithm": algorithm}
    if key is not DELETE:
        default["kmsMasterKeyId"] = key
    return {"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True, **extra}


def _encrypted(resources, **default_kwargs):
    resources["encryption"] = with_props(resources["encryption"], rules=[_default(**default_kwargs)])
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "pass"


def test_no_encryption_configuration_flags_the_bucket():
    resources = baseline()
    del resources["encryption"]
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "ai-app-data")}
    assert outcome.status == "fail"


def test_aes256_flags_the_encryption_resource():
    outcome = run(POLICY, _encrypted(baseline(), algorithm="AES256", key=DELETE))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any("'AES256'" in m for m in outcome.messages)


@pytest.mark.parametrize("key", ["alias/aws/s3", "arn:aws:kms:us-east-1:123456789012:alias/aws/s3",
                                 "ALIAS/AWS/S3"])
def test_aws_managed_key_flags_the_encryption_resource(key):
    outcome = run(POLICY, _encrypted(baseline(), key=key))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any("AWS-managed" in m for m in outcome.messages)


@pytest.mark.parametrize("key", [DELETE, None, ""])
def test_key_unset_flags_the_encryption_resource(key):
    outcome = run(POLICY, _encrypted(baseline(), key=key))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any("not set" in m for m in outcome.messages)


def test_dsse_passes():
    outcome = run(POLICY, _encrypted(baseline(), algorithm="aws:kms:dsse"))
    assert outcome.violations == set() and outcome.status == "pass"


def test_customer_alias_passes():
    outcome = run(POLICY, _encrypted(baseline(), key="alias/ai-app-data"))
    assert outcome.status == "pass"


def test_customer_key_of_another_account_passes_here():
    # customer-managed, just not this stack's: s3-bucket-sse-uses-stack-key judges that
    outcome = run(POLICY, _encrypted(baseline(), key="arn:aws:kms:us-east-1:999999999999:key/abc"))
    assert outcome.status == "pass"


def test_non_string_key_fails_closed():
    outcome = run(POLICY, _encrypted(baseline(), key=42))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any("malformed" in m and "kmsMasterKeyId" in m for m in outcome.messages)


def _inline_bucket(rule, type_="aws:s3/bucket:Bucket", name="ai-app-data"):
    return make(type_, name, {"bucket": BUCKET, "serverSideEncryptionConfiguration": {"rule": rule}},
                {"id": BUCKET, "arn": BUCKET_ARN})


def test_inline_bucket_form_passes():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = _inline_bucket(_default())
    assert run(POLICY, resources).status == "pass"


def test_inline_bucket_form_aes256_flags_the_bucket():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = _inline_bucket(_default(algorithm="AES256", key=DELETE))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_inline_bucket_form_aws_managed_key_flags_the_bucket():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = _inline_bucket(_default(key="alias/aws/s3"))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def _bucket_v2(rules, name="ai-app-data"):
    return make("aws:s3/bucketV2:BucketV2", name,
                {"bucket": BUCKET, "serverSideEncryptionConfigurations": [{"rules": rules}]},
                {"id": BUCKET, "arn": BUCKET_ARN})


def test_bucket_v2_inline_form_passes():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = _bucket_v2([_default()])
    outcome = run(POLICY, resources)
    assert outcome.status == "pass"


@pytest.mark.parametrize("rule", [_default(algorithm="AES256", key=DELETE), _default(key=DELETE),
                                  _default(key="alias/aws/s3")])
def test_bucket_v2_inline_form_bad_rule_flags_the_bucket(rule):
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = _bucket_v2([rule])
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_bucket_v2_without_encryption_flags_it():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucketV2:BucketV2", "ai-app-data", {"bucket": BUCKET},
                               {"id": BUCKET, "arn": BUCKET_ARN})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_bucket_v2_with_separate_encryption_resource_passes():
    resources = baseline()
    resources["bucket"] = make("aws:s3/bucketV2:BucketV2", "ai-app-data", {"bucket": BUCKET},
                               {"id": BUCKET, "arn": BUCKET_ARN})
    resources["encryption"] = make(resources["encryption"].type, "ai-app-data-encryption",
                                   dict(resources["encryption"].props),
                                   deps={"bucket": [resources["bucket"].urn], "rules": [KEY_URN]})
    assert run(POLICY, resources).status == "pass"


def _v2_encryption(rules, deps=None, bucket=BUCKET):
    return make(ENCRYPTION_V2, "ai-app-data-encryption", {"bucket": bucket, "rules": rules},
                deps=deps or {"bucket": [BUCKET_URN], "rules": [KEY_URN]})


def test_v2_encryption_resource_passes():
    resources = baseline()
    resources["encryption"] = _v2_encryption([_default()])
    assert run(POLICY, resources).status == "pass"


def test_v2_encryption_resource_aes256_is_flagged():
    resources = baseline()
    resources["encryption"] = _v2_encryption([_default(algorithm="AES256", key=DELETE)])
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data-encryption")}


def test_matched_by_property_dependency_when_bucket_input_unknown():
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], bucket=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "pass"


def test_matched_by_property_dependency_when_bucket_name_unknown():
    resources = baseline()
    resources["bucket"] = dataclasses.replace(with_props(resources["bucket"], bucket=UNKNOWN), outputs={})
    resources["encryption"] = with_props(resources["encryption"], bucket=UNKNOWN)
    assert run(POLICY, resources).status == "pass"


def test_matched_by_name_without_dependency():
    resources = baseline()
    resources["encryption"] = make(resources["encryption"].type, "ai-app-data-encryption",
                                   dict(resources["encryption"].props))
    assert run(POLICY, resources).status == "pass"


def test_unknown_target_without_dependency_is_unverifiable_for_an_unencrypted_bucket():
    resources = baseline()
    resources["encryption"] = make(resources["encryption"].type, "ai-app-data-encryption",
                                   dict(resources["encryption"].props, bucket=UNKNOWN))
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data")}
    assert outcome.status == "unverifiable"


def test_encryption_of_another_bucket_does_not_count():
    resources = baseline()
    resources["encryption"] = make(resources["encryption"].type, "other-encryption",
                                   dict(resources["encryption"].props, bucket="some-other-bucket"))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_unknown_algorithm_is_unverifiable_not_a_pass():
    resources = _encrypted(baseline(), algorithm=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}
    assert outcome.status == "unverifiable"
    assert any("sseAlgorithm" in m for m in outcome.messages)


def test_unknown_key_with_dependency_on_stack_key_passes():
    outcome = run(POLICY, _encrypted(baseline(), key=UNKNOWN))
    assert outcome.violations == set() and outcome.unverifiable == set()
    assert outcome.status == "pass"


def test_unknown_key_without_dependency_is_unverifiable():
    resources = _encrypted(baseline(), key=UNKNOWN)
    resources["encryption"] = dataclasses.replace(resources["encryption"],
                                                  property_dependencies={"bucket": (BUCKET_URN,)},
                                                  dependencies=(BUCKET_URN,))
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}


def test_unknown_rules_list_is_unverifiable():
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], rules=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data")}


@pytest.mark.parametrize("rules", [["not-an-object"], DELETE])
def test_malformed_rules_fail_closed(rules):
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], rules=rules)
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "ai-app-data")}
    assert all("malformed input" in m for m in outcome.messages)


def test_two_buckets_one_bad():
    resources = baseline()
    other = "ai-app-logs-77aa"
    resources["bucket2"] = make("aws:s3/bucket:Bucket", "ai-app-logs", {"bucket": other},
                                {"id": other, "arn": f"arn:aws:s3:::{other}"})
    resources["encryption2"] = make(resources["encryption"].type, "ai-app-logs-encryption",
                                    {"bucket": other, "rules": [_default(algorithm="AES256", key=DELETE)]},
                                    deps={"bucket": [resources["bucket2"].urn]})
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "ai-app-logs-encryption")}


def test_two_buckets_one_without_encryption():
    resources = baseline()
    other = "ai-app-logs-77aa"
    resources["bucket2"] = make("aws:s3/bucket:Bucket", "ai-app-logs", {"bucket": other},
                                {"id": other, "arn": f"arn:aws:s3:::{other}"})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-logs")}


def test_one_bad_rule_among_several():
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"],
                                         rules=[_default(), _default(key="alias/aws/s3")])
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data-encryption")}


def test_no_buckets_is_not_applicable():
    resources = baseline()
    del resources["bucket"], resources["encryption"]
    assert run(POLICY, resources).status == "not-applicable"

