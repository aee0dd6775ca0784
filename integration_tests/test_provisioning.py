"""Scenario: the stack `pulumi up` deployed on the emulator, checked against what the emulator answers
about the key, the bucket and its default encryption, and against the stack's own outputs."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest

from keyguard_stack.documents import bucket_tls_only_policy, role_policy_document

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_kms_key_is_symmetric_with_rotation(deployment, settings):
    kms = deployment.client("kms")
    metadata = kms.describe_key(KeyId=deployment.stack.key_arn)["KeyMetadata"]
    assert metadata["Arn"] == deployment.stack.key_arn
    assert metadata["AWSAccountId"] == deployment.account  # the emulator's own account, not hard-coded
    assert deployment.stack.key_arn.endswith(f":{deployment.account}:key/{deployment.stack.key_id}")
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert metadata["KeyState"] == "Enabled"
    assert metadata["KeyManager"] == "CUSTOMER"
    rotation = kms.get_key_rotation_status(KeyId=deployment.stack.key_id)
    assert rotation["KeyRotationEnabled"] is True
    if deployment.emulator.kind == "moto":
        # moto 5.2.5 accepts RotationPeriodInDays but neither stores nor returns it.
        assert rotation.get("RotationPeriodInDays") in (None, settings.key_rotation_period_days)
    else:
        assert rotation["RotationPeriodInDays"] == settings.key_rotation_period_days
    aliases = kms.list_aliases(KeyId=deployment.stack.key_id)["Aliases"]
    assert deployment.stack.alias in [alias["AliasName"] for alias in aliases]


def test_bucket_default_encryption_is_the_stack_key(deployment, settings):
    s3 = deployment.client("s3")
    # bucket_prefix: the prefix, then a unique suffix the provider appends
    assert deployment.stack.bucket.startswith(settings.bucket_prefix)
    assert len(deployment.stack.bucket) > len(settings.bucket_prefix)
    rules = s3.get_bucket_encryption(Bucket=deployment.stack.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == deployment.stack.key_arn
    assert rules[0]["BucketKeyEnabled"] is True


def test_bucket_blocks_public_access_and_enforces_ownership(deployment):
    s3 = deployment.client("s3")
    block = s3.get_public_access_block(Bucket=deployment.stack.bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    ownership = s3.get_bucket_ownership_controls(Bucket=deployment.stack.bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_bucket_policy_is_the_stacks_tls_only_policy(deployment):
    s3 = deployment.client("s3")
    if not deployment.stack.bucket_policy_applied:
        # Deployed with keyguard:tlsOnlyBucketPolicy=false on moto only: moto cannot evaluate the policy's
        # aws:SecureTransport condition and would deny every object request (see conftest.deployment).
        assert deployment.emulator.kind == "moto"
        with pytest.raises(botocore.exceptions.ClientError, match="NoSuchBucketPolicy"):
            s3.get_bucket_policy(Bucket=deployment.stack.bucket)
        return
    # Stored as the stack writes it; LocalStack does not evaluate bucket policies, so its
    # aws:SecureTransport condition cannot deny these plain-HTTP requests.
    policy = json.loads(s3.get_bucket_policy(Bucket=deployment.stack.bucket)["Policy"])
    expected = bucket_tls_only_policy(deployment.stack.bucket_arn)
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == expected["Statement"][0]["Condition"]
    assert sorted(policy["Statement"][0]["Resource"]) == sorted(expected["Statement"][0]["Resource"])


def test_permissions_boundary_is_the_role_document(deployment):
    iam = deployment.client("iam")
    arn = deployment.stack.boundary_policy_arn
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    assert document == role_policy_document(deployment.stack.bucket_arn, deployment.stack.key_arn)


def test_stack_outputs_name_the_deployed_resources(deployment):
    stack = deployment.stack
    assert stack.outputs["bucket_name"] == stack.bucket
    assert stack.outputs["kms_key_arn"] == stack.key_arn
    assert stack.outputs["vault_backend"] == stack.backend_path
    assert stack.outputs["vault_role"] == stack.role
    assert stack.outputs["vault_acl_policy"] == stack.acl_policy
    assert stack.outputs["approle_role_id_path"] == f"auth/{stack.approle_mount}/role/{stack.approle_role}/role-id"
    kms = deployment.client("kms")
    assert {a["AliasName"] for a in kms.list_aliases(KeyId=stack.key_id)["Aliases"]} == {stack.alias}
