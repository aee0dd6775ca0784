import pytest

from tests.baseline import BUCKET, BUCKET_ARN, DELETE, ENCRYPTION_V2, KEY_ARN, UNKNOWN, baseline, make, run, with_props

POLICY = "s3-bucket-key-enabled"


def _rule(bucket_key=DELETE, algorithm="aws:kms"):
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm, "kmsMasterKeyId": KEY_ARN}}
    if bucket_key is not DELETE:
        rule["bucketKeyEnabled"] = bucket_key
    return rule


def _set(resources, **kwargs):
    resources["encryption"] = with_props(resources["encryption"], rules=[_rule(**kwargs)])
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("value", [False, DELETE, None, "false"])
def test_bucket_key_off_or_unset_is_flagged(value):
    outcome = run(POLICY, _set(baseline(), bucket_key=value))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_bucket_key_on_passes(value):
    assert run(POLICY, _set(baseline(), bucket_key=value)).status == "pass"


def test_dsse_without_bucket_key_is_flagged():
    outcome = run(POLICY, _set(baseline(), bucket_key=False, algorithm="aws:kms:dsse"))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}


def test_aes256_does_not_need_a_bucket_key():
    assert run(POLICY, _set(baseline(), bucket_key=DELETE, algorithm="AES256")).status == "pass"


def test_unknown_bucket_key_is_unverifiable():
    outcome = run(POLICY, _set(baseline(), bucket_key=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}


def test_unknown_algorithm_is_unverifiable():
    outcome = run(POLICY, _set(baseline(), bucket_key=DELETE, algorithm=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-data-encryption")}


def test_non_boolean_fails_closed():
    outcome = run(POLICY, _set(baseline(), bucket_key=42))
    assert outcome.violations == {(POLICY, "ai-app-data-encryption")}
    assert any("malformed input" in m and "bucketKeyEnabled" in m for m in outcome.messages)


def test_inline_bucket_form():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucket:Bucket", "ai-app-data", {
        "bucket": BUCKET, "serverSideEncryptionConfiguration": {"rule": _rule()}}, {"arn": BUCKET_ARN})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}
    resources["bucket"] = make("aws:s3/bucket:Bucket", "ai-app-data", {
        "bucket": BUCKET, "serverSideEncryptionConfiguration": {"rule": _rule(True)}}, {"arn": BUCKET_ARN})
    assert run(POLICY, resources).status == "pass"


def test_bucket_v2_inline_form():
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucketV2:BucketV2", "ai-app-data", {
        "bucket": BUCKET, "serverSideEncryptionConfigurations": [{"rules": [_rule(False)]}]}, {"arn": BUCKET_ARN})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data")}


def test_v2_encryption_resource():
    resources = baseline()
    resources["encryption"] = make(ENCRYPTION_V2, "ai-app-data-encryption", {"bucket": BUCKET, "rules": [_rule()]})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-data-encryption")}


def test_bucket_without_any_encryption_is_left_to_other_policies():
    resources = baseline()
    del resources["encryption"]
    assert run(POLICY, resources).status == "pass"
