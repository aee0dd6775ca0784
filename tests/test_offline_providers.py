"""keyguard's offline `aws` provider (toolchain/providers) on moto in-process: check normalises and
refuses, preview returns unknowns without a server, create/read/update/delete act on the emulator and
return the real ids and ARNs, and a type the provider does not implement is a clear error."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain" / "providers"))

from keyguard_providers import aws as aws_provider  # noqa: E402
from keyguard_providers.base import UNKNOWN, ProviderError, to_plain  # noqa: E402
from pulumi.provider.experimental.property_value import Computed, PropertyValue  # noqa: E402
from pulumi.provider.experimental.provider import (CheckRequest, ConfigureRequest, CreateRequest,  # noqa: E402
                                                   DeleteRequest, DiffRequest, ReadRequest, UpdateRequest)

KEY = "aws:kms/key:Key"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::keyguard::{type_}::{name}"


def props(**values) -> dict[str, PropertyValue]:
    return {k: v if isinstance(v, PropertyValue) else PropertyValue(v) for k, v in values.items()}


def _plain(value: PropertyValue):
    return to_plain(value)


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    p = aws_provider.AwsProvider("aws", aws_provider.TYPES)
    run(p.configure(ConfigureRequest({"aws:region": "us-east-1"}, {}, True, True)))
    return p


def run(coro):
    """A private loop: asyncio.run would leave the thread without one for later Pulumi-mock tests."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_unimplemented_type_is_a_clear_error(provider):
    with pytest.raises(ProviderError, match="does not implement aws:ec2/instance:Instance"):
        run(provider.check(CheckRequest(urn("aws:ec2/instance:Instance", "vm"), {}, {}, b"")))


def test_check_applies_defaults_and_refuses_bad_inputs(provider):
    ok = run(provider.check(CheckRequest(urn(KEY, "k"), {}, props(description="d"), b"seed")))
    assert not ok.failures
    assert {k: _plain(v) for k, v in ok.inputs.items()} == {
        "description": "d", "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT",
        "isEnabled": True, "enableKeyRotation": False, "bypassPolicyLockoutSafetyCheck": False, "multiRegion": False}
    bad = run(provider.check(CheckRequest(urn(KEY, "k"), {}, props(deletionWindowInDays=3.0, colour="red"), b"")))
    assert sorted(f.property for f in bad.failures) == ["colour", "deletionWindowInDays"]
    doc = run(provider.check(CheckRequest(urn("aws:iam/policy:Policy", "p"), {}, props(policy="{not json"), b"")))
    assert [f.property for f in doc.failures] == ["policy"]


def test_preview_returns_unknown_computed_outputs_without_a_server(provider):
    resp = run(provider.create(CreateRequest(urn(KEY, "k"), props(description="d", policy=PropertyValue(Computed())),
                                             0, True)))
    assert resp.resource_id is None
    assert _plain(resp.properties["arn"]) is UNKNOWN and _plain(resp.properties["keyId"]) is UNKNOWN
    for value in resp.properties.values():
        value.marshal()  # what the server sends: every value must marshal
    assert resp.properties["description"].value == "d"


@mock_aws
def test_kms_key_lifecycle_on_the_emulator(provider):
    kms = boto3.client("kms", region_name="us-east-1")
    inputs = props(description="d", customerMasterKeySpec="SYMMETRIC_DEFAULT", keyUsage="ENCRYPT_DECRYPT",
                   enableKeyRotation=False, deletionWindowInDays=30.0)
    created = run(provider.create(CreateRequest(urn(KEY, "k"), inputs, 0, False)))
    key_id = created.resource_id
    assert created.properties["arn"].value == kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    news = {**inputs, "enableKeyRotation": PropertyValue(True), "rotationPeriodInDays": PropertyValue(180.0)}
    diff = run(provider.diff(DiffRequest(urn(KEY, "k"), key_id, created.properties, news, [])))
    assert diff.changes is True and diff.replaces == []
    assert set(diff.detailed_diff) == {"enableKeyRotation", "rotationPeriodInDays"}
    run(provider.update(UpdateRequest(urn(KEY, "k"), key_id, created.properties, news, 0, [], False)))
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    replaced = run(provider.diff(DiffRequest(urn(KEY, "k"), key_id, created.properties,
                                             {**inputs, "keyUsage": PropertyValue("SIGN_VERIFY")}, [])))
    assert replaced.replaces == ["keyUsage"]
    run(provider.delete(DeleteRequest(urn(KEY, "k"), key_id, created.properties, 0)))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    gone = run(provider.read(ReadRequest(urn(KEY, "k"), key_id, created.properties, inputs)))
    assert gone.resource_id == ""


@mock_aws
def test_bucket_encryption_and_iam_policy_on_the_emulator(provider):
    s3 = boto3.client("s3", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    checked = run(provider.check(CheckRequest(urn("aws:s3/bucket:Bucket", "data"), {}, props(bucketPrefix="ai-"), b"")))
    bucket = run(provider.create(CreateRequest(urn("aws:s3/bucket:Bucket", "data"), checked.inputs, 0, False)))
    name = bucket.resource_id
    assert name.startswith("ai-") and bucket.properties["arn"].value == f"arn:aws:s3:::{name}"
    s3.head_bucket(Bucket=name)
    enc_type = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    rules = [PropertyValue({"applyServerSideEncryptionByDefault": PropertyValue({
        "sseAlgorithm": PropertyValue("aws:kms"), "kmsMasterKeyId": PropertyValue("arn:aws:kms:us-east-1:123456789012:key/x")}),
        "bucketKeyEnabled": PropertyValue(True)})]
    run(provider.create(CreateRequest(urn(enc_type, "enc"), props(bucket=name, rules=PropertyValue(rules)), 0, False)))
    got = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert got["BucketKeyEnabled"] is True
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                        "Resource": f"arn:aws:s3:::{name}/*"}]}
    pchecked = run(provider.check(CheckRequest(urn("aws:iam/policy:Policy", "boundary"), {},
                                               props(policy=json.dumps(document)), b"seed")))
    policy = run(provider.create(CreateRequest(urn("aws:iam/policy:Policy", "boundary"), pchecked.inputs, 0, False)))
    assert policy.resource_id == iam.get_policy(PolicyArn=policy.resource_id)["Policy"]["Arn"]
    assert policy.properties["name"].value.startswith("boundary-")
    # the same document written differently is no change
    same = json.dumps(document, indent=2)
    diff = run(provider.diff(DiffRequest(urn("aws:iam/policy:Policy", "boundary"), policy.resource_id,
                                         policy.properties, {**pchecked.inputs, "policy": PropertyValue(same)}, [])))
    assert diff.changes is False
