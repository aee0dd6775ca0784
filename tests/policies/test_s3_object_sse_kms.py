import pytest

from tests.baseline import BUCKET, KEY_ARN, UNKNOWN, baseline, make, run

POLICY = "s3-object-sse-kms"
OBJECT = "aws:s3/bucketObject:BucketObject"
OBJECT_V2 = "aws:s3/bucketObjectv2:BucketObjectv2"


def _with_object(props, type_=OBJECT, name="model-weights"):
    resources = baseline()
    resources["object"] = make(type_, name, {"bucket": BUCKET, "key": "models/w.bin", **props})
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set()
    assert outcome.status == "not-applicable"


@pytest.mark.parametrize("type_", [OBJECT, OBJECT_V2])
def test_object_without_its_own_encryption_passes(type_):
    assert run(POLICY, _with_object({}, type_)).status == "pass"


@pytest.mark.parametrize("type_", [OBJECT, OBJECT_V2])
@pytest.mark.parametrize("props", [{"serverSideEncryption": "aws:kms", "kmsKeyId": KEY_ARN},
                                   {"serverSideEncryption": "aws:kms:dsse", "kmsKeyId": KEY_ARN},
                                   {"serverSideEncryption": "aws:kms"}])
def test_kms_object_passes(type_, props):
    assert run(POLICY, _with_object(props, type_)).status == "pass"


@pytest.mark.parametrize("type_", [OBJECT, OBJECT_V2])
def test_aes256_object_is_flagged(type_):
    outcome = run(POLICY, _with_object({"serverSideEncryption": "AES256"}, type_))
    assert outcome.violations == {(POLICY, "model-weights")}
    assert any("'AES256'" in m for m in outcome.messages)


@pytest.mark.parametrize("key", ["alias/aws/s3", "arn:aws:kms:us-east-1:123456789012:alias/aws/s3"])
def test_aws_managed_key_is_flagged(key):
    outcome = run(POLICY, _with_object({"serverSideEncryption": "aws:kms", "kmsKeyId": key}))
    assert outcome.violations == {(POLICY, "model-weights")}


def test_unknown_algorithm_is_unverifiable():
    outcome = run(POLICY, _with_object({"serverSideEncryption": UNKNOWN}))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "model-weights")}


def test_unknown_key_is_unverifiable():
    outcome = run(POLICY, _with_object({"serverSideEncryption": "aws:kms", "kmsKeyId": UNKNOWN}))
    assert outcome.unverifiable == {(POLICY, "model-weights")}


def test_non_string_algorithm_fails_closed():
    outcome = run(POLICY, _with_object({"serverSideEncryption": 1}))
    assert outcome.violations == {(POLICY, "model-weights")}
    assert any("malformed input" in m and "serverSideEncryption" in m for m in outcome.messages)


def test_two_objects_one_bad():
    resources = _with_object({"serverSideEncryption": "aws:kms"})
    resources["object2"] = make(OBJECT_V2, "prompt-log", {"bucket": BUCKET, "serverSideEncryption": "AES256"})
    assert run(POLICY, resources).violations == {(POLICY, "prompt-log")}


@pytest.mark.parametrize("dependency", [("aws:kms/key:Key", "ai-app-kms-key"), ("aws:kms/alias:Alias", "ai-app-kms-alias")])
def test_unknown_key_computed_from_a_stack_key_passes(dependency):
    from tests.baseline import urn
    resources = baseline()
    resources["object"] = make(OBJECT, "model-weights", {"bucket": BUCKET, "serverSideEncryption": "aws:kms",
                                                         "kmsKeyId": UNKNOWN}, deps={"kmsKeyId": [urn(*dependency)]})
    outcome = run(POLICY, resources)
    assert outcome.unverifiable == set() and outcome.violations == set()
    assert outcome.status == "pass"
