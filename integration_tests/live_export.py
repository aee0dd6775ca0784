"""A `pulumi stack export` (deployment version 3) of the design as deployed by `design.py`, built
from the real ids and ARNs in the same shapes as tests/fixtures/state-compliant.json, plus the
AppRole access path (auth mount, ACL policy, AppRole role) in pulumi-vault 7's property names.
The suite has no Pulumi CLI yet: this is what `pulumi stack export` would write for the same
update, inputs as the program declares them."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import hvac

from keyguard_stack.documents import bucket_tls_only_policy
from keyguard_stack.settings import StackSettings

from . import design

STACK, PROJECT = "dev", "keyguard"
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
TOKEN_TTL, TOKEN_MAX_TTL, SECRET_ID_TTL = 900, 3600, 3600


@dataclasses.dataclass(frozen=True)
class AppRole:
    """The application's way in: an AppRole mount, an ACL policy and a role."""
    mount: str
    policy_name: str
    policy: str
    role: str


def acl_policy(aws_mount: str, role: str) -> str:
    return f'path "{aws_mount}/creds/{role}" {{\n  capabilities = ["read"]\n}}\n'


def configure_approle(client: hvac.Client, aws_mount: str, role: str) -> AppRole:
    """The stack's AppRole access path, through hvac (what approle's Pulumi resources create)."""
    approle = AppRole(mount=design.unique_name("approle"), policy_name=design.unique_name("ai-app-creds"),
                      policy=acl_policy(aws_mount, role), role="ai-app")
    client.sys.enable_auth_method("approle", path=approle.mount,
                                  config={"default_lease_ttl": "1h", "max_lease_ttl": "4h"})
    client.sys.create_or_update_policy(approle.policy_name, approle.policy)
    client.write_data(f"auth/{approle.mount}/role/{approle.role}", data={
        "token_policies": [approle.policy_name], "token_ttl": TOKEN_TTL, "token_max_ttl": TOKEN_MAX_TTL,
        "bind_secret_id": True, "secret_id_ttl": SECRET_ID_TTL, "secret_id_num_uses": 1})
    return approle


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def _secret(value: str) -> dict:
    return {SIG: SECRET_SIG, "plaintext": json.dumps(value)}


def _entry(type_: str, name: str, ident: str, inputs: dict, outputs: dict | None = None,
           deps: dict[str, list[str]] | None = None) -> dict[str, Any]:
    prop_deps = deps or {}
    return {"urn": _urn(type_, name), "custom": True, "id": ident, "type": type_, "inputs": inputs,
            "outputs": {**inputs, **(outputs or {})},
            "dependencies": sorted({u for v in prop_deps.values() for u in v}),
            "propertyDependencies": prop_deps}


def build(settings: StackSettings, deployed: design.Design, backend: design.VaultBackend,
          root: design.AwsCredentials, approle: AppRole, account: str, region: str) -> dict[str, Any]:
    key_urn = _urn("aws:kms/key:Key", "ai-app-kms-key")
    bucket_urn = _urn("aws:s3/bucket:Bucket", "ai-app-data")
    document = json.dumps(deployed.role_document)
    resources = [
        {"urn": _urn("pulumi:pulumi:Stack", f"{PROJECT}-{STACK}"), "custom": False, "type": "pulumi:pulumi:Stack",
         "outputs": {"bucket_name": deployed.bucket, "kms_key_arn": deployed.key_arn}},
        _entry("aws:kms/key:Key", "ai-app-kms-key", deployed.key_id, {
            "description": "Customer-managed key for AI application data (SSE-KMS)",
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT",
            "enableKeyRotation": True, "rotationPeriodInDays": float(settings.key_rotation_period_days),
            "deletionWindowInDays": float(settings.key_deletion_window_days)},
            {"keyId": deployed.key_id, "arn": deployed.key_arn}),
        _entry("aws:kms/alias:Alias", "ai-app-kms-alias", deployed.alias,
               {"name": deployed.alias, "targetKeyId": deployed.key_id},
               {"arn": f"arn:aws:kms:{region}:{account}:{deployed.alias}"}, {"targetKeyId": [key_urn]}),
        _entry("aws:s3/bucket:Bucket", "ai-app-data", deployed.bucket, {"bucketPrefix": settings.bucket_prefix},
               {"bucket": deployed.bucket, "arn": deployed.bucket_arn, "region": region}),
        _entry("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
               "ai-app-data-encryption", deployed.bucket, {
                   "bucket": deployed.bucket,
                   "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                     "kmsMasterKeyId": deployed.key_arn},
                              "bucketKeyEnabled": True}]},
               deps={"bucket": [bucket_urn], "rules": [key_urn]}),
        _entry("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ai-app-data-public-access",
               deployed.bucket, {"bucket": deployed.bucket, "blockPublicAcls": True, "blockPublicPolicy": True,
                                 "ignorePublicAcls": True, "restrictPublicBuckets": True},
               deps={"bucket": [bucket_urn]}),
        _entry("aws:iam/policy:Policy", "vault-user-boundary", deployed.boundary_policy_arn, {
            "description": "Permissions boundary of the IAM users Vault issues: never more than the role document",
            "policy": document}, {"arn": deployed.boundary_policy_arn,
                                  "name": deployed.boundary_policy_arn.rsplit("/", 1)[-1]},
            {"policy": [bucket_urn, key_urn]}),
        _entry("vault:aws/secretBackend:SecretBackend", "ai-app-backend", backend.path, {
            "path": backend.path, "region": region,
            "description": "AWS secrets engine issuing short-lived credentials for the AI application",
            "defaultLeaseTtlSeconds": float(settings.default_lease_ttl_seconds),
            "maxLeaseTtlSeconds": float(settings.max_lease_ttl_seconds),
            "accessKey": _secret(root.access_key_id), "secretKey": _secret(root.secret_access_key)}),
        _entry("vault:aws/secretBackendRole:SecretBackendRole", "ai-app-role", f"{backend.path}/roles/{backend.role}", {
            "backend": backend.path, "name": backend.role, "credentialType": settings.credential_type,
            "policyDocument": document, "permissionsBoundaryArn": deployed.boundary_policy_arn},
            deps={"policyDocument": [bucket_urn, key_urn]}),
        _entry("vault:index/authBackend:AuthBackend", "ai-app-approle", approle.mount, {
            "path": approle.mount, "type": "approle", "tune": {"defaultLeaseTtl": "1h", "maxLeaseTtl": "4h"}}),
        _entry("vault:index/policy:Policy", "ai-app-creds", approle.policy_name,
               {"name": approle.policy_name, "policy": approle.policy}),
        _entry("vault:appRole/authBackendRole:AuthBackendRole", "ai-app-approle-role",
               f"auth/{approle.mount}/role/{approle.role}", {
                   "backend": approle.mount, "roleName": approle.role, "tokenPolicies": [approle.policy_name],
                   "tokenTtl": float(TOKEN_TTL), "tokenMaxTtl": float(TOKEN_MAX_TTL), "bindSecretId": True,
                   "secretIdTtl": float(SECRET_ID_TTL), "secretIdNumUses": 1.0}),
    ]
    if deployed.bucket_policy_applied:
        resources.append(_entry("aws:s3/bucketPolicy:BucketPolicy", "ai-app-data-tls-only", deployed.bucket, {
            "bucket": deployed.bucket, "policy": json.dumps(bucket_tls_only_policy(deployed.bucket_arn))},
            deps={"bucket": [bucket_urn], "policy": [bucket_urn]}))
    return {"version": 3, "deployment": {"manifest": {"version": "v3.274.1"}, "resources": resources}}
