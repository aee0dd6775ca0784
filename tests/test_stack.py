"""The Pulumi program under Pulumi's own mocks: every resource, its inputs, and how they are
wired (the role document really references this bucket and this key)."""
from __future__ import annotations

import json
import shutil

import pytest

from keyguard.sources.pulumi_config import stack_config
from keyguard_stack.documents import app_acl_policy, bucket_tls_only_policy, role_policy_document
from keyguard_stack.settings import StackSettings

from .conftest import REPO


def by_type(resources, type_):
    found = [r for r in resources if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, got {len(found)}"
    return found[0]


def test_exactly_the_designed_resources(program_resources):
    assert sorted((r.type, r.name) for r in program_resources) == sorted([
        ("aws:kms/key:Key", "ai-app-kms-key"),
        ("aws:kms/alias:Alias", "ai-app-kms-alias"),
        ("aws:s3/bucket:Bucket", "ai-app-data"),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         "ai-app-data-encryption"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ai-app-data-public-access"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ai-app-data-ownership"),
        ("aws:s3/bucketPolicy:BucketPolicy", "ai-app-data-tls-only"),
        ("aws:iam/policy:Policy", "vault-user-boundary"),
        ("vault:aws/secretBackend:SecretBackend", "ai-app-backend"),
        ("vault:aws/secretBackendRole:SecretBackendRole", "ai-app-role"),
        ("vault:index/authBackend:AuthBackend", "ai-app-approle"),
        ("vault:index/policy:Policy", "ai-app-acl-policy"),
        ("vault:appRole/authBackendRole:AuthBackendRole", "ai-app-approle-role"),
    ])


def test_urns_are_engine_urns(program_resources):
    for r in program_resources:
        assert r.urn == f"urn:pulumi:dev::keyguard::{r.type}::{r.name}"


def test_kms_key_is_hardened(program_resources):
    key = by_type(program_resources, "aws:kms/key:Key")
    assert key.props["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.props["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.props["enableKeyRotation"] is True
    assert key.props["rotationPeriodInDays"] == 365
    assert key.props["deletionWindowInDays"] == 30


def test_bucket_encryption_uses_the_stack_key(program_resources):
    key = by_type(program_resources, "aws:kms/key:Key")
    bucket = by_type(program_resources, "aws:s3/bucket:Bucket")
    enc = by_type(program_resources,
                  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert "serverSideEncryptionConfiguration" not in bucket.props  # no deprecated inline encryption
    assert bucket.props["bucketPrefix"] == "ai-app-data"
    assert enc.props["bucket"] == bucket.outputs["bucket"]
    assert enc.depends_on("bucket") == (bucket.urn,)
    [rule] = enc.props["rules"]
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                           "kmsMasterKeyId": key.outputs["arn"]},
                    "bucketKeyEnabled": True}
    assert enc.depends_on("rules") == (key.urn,)


def test_bucket_is_private_and_tls_only(program_resources):
    bucket = by_type(program_resources, "aws:s3/bucket:Bucket")
    block = by_type(program_resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert {k: block.props[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
    ownership = by_type(program_resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.props["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    policy = by_type(program_resources, "aws:s3/bucketPolicy:BucketPolicy")
    assert json.loads(policy.props["policy"]) == bucket_tls_only_policy(bucket.outputs["arn"])


def test_vault_backend_ttls_come_from_stack_config(program_resources):
    settings = StackSettings.from_config(stack_config("dev", REPO / "stack"))
    backend = by_type(program_resources, "vault:aws/secretBackend:SecretBackend")
    assert backend.props["path"] == settings.vault_backend_path == "aws-ai-app"
    assert backend.props["defaultLeaseTtlSeconds"] == settings.default_lease_ttl_seconds == 3600
    assert backend.props["maxLeaseTtlSeconds"] == settings.max_lease_ttl_seconds == 14400
    assert "iamEndpoint" not in backend.props  # no emulator endpoint in the dev stack


def test_role_document_references_this_bucket_and_key(program_resources):
    key = by_type(program_resources, "aws:kms/key:Key")
    bucket = by_type(program_resources, "aws:s3/bucket:Bucket")
    backend = by_type(program_resources, "vault:aws/secretBackend:SecretBackend")
    boundary = by_type(program_resources, "aws:iam/policy:Policy")
    role = by_type(program_resources, "vault:aws/secretBackendRole:SecretBackendRole")
    document = json.loads(role.props["policyDocument"])
    assert document == role_policy_document(bucket.outputs["arn"], key.outputs["arn"])
    assert set(role.depends_on("policyDocument")) == {bucket.urn, key.urn}
    assert role.props["backend"] == backend.props["path"]
    assert role.depends_on("backend") == (backend.urn,)
    assert role.props["credentialType"] == "iam_user"
    assert role.props["name"] == "ai-app"
    assert role.props["permissionsBoundaryArn"] == boundary.outputs["arn"]
    assert json.loads(boundary.props["policy"]) == document


def test_exports(program):
    resources, exports = program
    key = by_type(resources, "aws:kms/key:Key")
    bucket = by_type(resources, "aws:s3/bucket:Bucket")
    assert exports == {"bucket_name": bucket.outputs["bucket"], "vault_backend": "aws-ai-app",
                       "kms_key_arn": key.outputs["arn"], "vault_role": "ai-app",
                       "approle_role_id_path": "auth/approle/role/ai-app/role-id",
                       "vault_acl_policy": "ai-app-aws-creds"}
    login = by_type(resources, "vault:appRole/authBackendRole:AuthBackendRole")
    assert login.outputs["roleId"] not in json.dumps(exports)  # nor any secret id: only where to read the role id


def test_approle_login_from_stack_config(program_resources):
    settings = StackSettings.from_config(stack_config("dev", REPO / "stack"))
    mount = by_type(program_resources, "vault:index/authBackend:AuthBackend")
    assert mount.props["type"] == "approle" and mount.props["path"] == settings.approle_path == "approle"
    assert mount.props["tune"] == {"defaultLeaseTtl": "3600s", "maxLeaseTtl": "14400s"}
    login = by_type(program_resources, "vault:appRole/authBackendRole:AuthBackendRole")
    acl = by_type(program_resources, "vault:index/policy:Policy")
    assert login.props["backend"] == "approle" and login.depends_on("backend") == (mount.urn,)
    assert login.props["roleName"] == settings.approle_role_name
    assert login.props["tokenPolicies"] == [acl.props["name"]] == [settings.vault_policy_name]
    assert login.depends_on("tokenPolicies") == (acl.urn,)
    assert (login.props["tokenTtl"], login.props["tokenMaxTtl"]) == (settings.token_ttl_seconds,
                                                                      settings.token_max_ttl_seconds) == (3600, 14400)
    assert login.props["bindSecretId"] is True and "tokenPeriod" not in login.props
    assert (login.props["secretIdTtl"], login.props["secretIdNumUses"]) == (3600, 1)
    assert "secretIdBoundCidrs" not in login.props and "tokenBoundCidrs" not in login.props


def test_acl_policy_reads_only_the_stacks_credentials(program_resources):
    backend = by_type(program_resources, "vault:aws/secretBackend:SecretBackend")
    role = by_type(program_resources, "vault:aws/secretBackendRole:SecretBackendRole")
    acl = by_type(program_resources, "vault:index/policy:Policy")
    assert acl.props["policy"] == app_acl_policy("aws-ai-app", "ai-app")
    assert set(acl.depends_on("policy")) == {backend.urn, role.urn}
    from keyguard_policies.vault_acl import parse
    [rule] = parse(acl.props["policy"])
    assert (rule.path, rule.capabilities, rule.allowed_parameters) == ("aws-ai-app/creds/ai-app", {"read"}, None)


def test_app_acl_policy_quotes_paths():
    assert app_acl_policy("/kv/", 'a"b') == 'path "kv/creds/a\\"b" {\n  capabilities = ["read"]\n}\n'


def test_cidr_bounds_are_configurable(tmp_path):
    from keyguard.sources.program import run_program
    stack_dir = tmp_path / "stack"
    shutil.copytree(REPO / "stack", stack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (stack_dir / "Pulumi.cidr.yaml").write_text(
        "config:\n  keyguard:secretIdBoundCidrs: [\"10.0.0.0/16\"]\n  keyguard:tokenBoundCidrs: '[\"10.0.1.0/24\"]'\n")
    login = by_type(run_program(stack_dir, "cidr"), "vault:appRole/authBackendRole:AuthBackendRole")
    assert login.props["secretIdBoundCidrs"] == ["10.0.0.0/16"] and login.props["tokenBoundCidrs"] == ["10.0.1.0/24"]


def test_role_policy_document_is_least_privilege():
    doc = role_policy_document("arn:aws:s3:::b", "arn:aws:kms:us-east-1:123456789012:key/k")
    grants = {(a, r) for s in doc["Statement"] for a in s["Action"] for r in s["Resource"]}
    assert all(s["Effect"] == "Allow" for s in doc["Statement"])
    assert grants == {("s3:ListBucket", "arn:aws:s3:::b"), ("s3:GetObject", "arn:aws:s3:::b/*"),
                      ("s3:PutObject", "arn:aws:s3:::b/*"),
                      ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k"),
                      ("kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/k")}


def test_settings_validate():
    with pytest.raises(ValueError, match="credentialType"):
        StackSettings(credential_type="session_token")
    with pytest.raises(ValueError, match="must not exceed"):
        StackSettings(default_lease_ttl_seconds=7200, max_lease_ttl_seconds=3600)
    assert StackSettings.from_config({"keyguard:maxLeaseTtlSeconds": "7200"}).max_lease_ttl_seconds == 7200
    with pytest.raises(ValueError, match="tokenTtlSeconds must not exceed"):
        StackSettings(token_ttl_seconds=7200, token_max_ttl_seconds=3600)
    with pytest.raises(ValueError, match="secretIdTtlSeconds must be positive"):
        StackSettings(secret_id_ttl_seconds=0)
    with pytest.raises(ValueError, match="secretIdNumUses must be positive"):
        StackSettings.from_config({"keyguard:secretIdNumUses": 0})
    with pytest.raises(ValueError, match="secretIdBoundCidrs must be a list"):
        StackSettings.from_config({"keyguard:secretIdBoundCidrs": "10.0.0.0/8"})
    assert StackSettings.from_config({"keyguard:tokenBoundCidrs": '["10.0.0.0/8"]'}).token_bound_cidrs == ("10.0.0.0/8",)


def test_emulator_endpoints_wire_explicit_providers(tmp_path, program):
    """The same program targets LocalStack/moto and a dev Vault through stack config."""
    from keyguard.sources.program import run_program
    stack_dir = tmp_path / "stack"
    shutil.copytree(REPO / "stack", stack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (stack_dir / "Pulumi.emu.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  keyguard:awsEndpoint: http://127.0.0.1:4566\n"
        "  keyguard:vaultAddress: http://127.0.0.1:8200\n  keyguard:defaultLeaseTtlSeconds: 600\n")
    resources = run_program(stack_dir, "emu")
    providers = {r.type: r for r in resources if r.type.startswith("pulumi:providers:")}
    assert set(providers) == {"pulumi:providers:aws", "pulumi:providers:vault"}
    assert providers["pulumi:providers:vault"].props["address"] == "http://127.0.0.1:8200"
    endpoints = json.loads(providers["pulumi:providers:aws"].props["endpoints"])
    assert endpoints == [{s: "http://127.0.0.1:4566" for s in ("iam", "kms", "s3", "sts")}]
    backend = by_type(resources, "vault:aws/secretBackend:SecretBackend")
    assert backend.props["iamEndpoint"] == backend.props["stsEndpoint"] == "http://127.0.0.1:4566"
    assert backend.props["defaultLeaseTtlSeconds"] == 600
