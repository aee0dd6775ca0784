"""The resources of the design, wired together. `define()` is the whole program; `__main__.py`
only calls it, so tests and `keyguard audit` can run it under Pulumi's mocks."""
from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_vault as vault

from .documents import app_acl_policy, bucket_tls_only_policy, role_policy_document
from .settings import NAMESPACE, StackSettings

AWS_ENDPOINT_SERVICES = ("iam", "kms", "s3", "sts")


def read_settings() -> StackSettings:
    """Stack config through pulumi.Config; unset keys keep the StackSettings defaults."""
    values = {}
    for key in StackSettings.config_keys().values():
        namespace, name = key.split(":")
        values[key] = pulumi.Config(namespace).get(name)
    return StackSettings.from_config(values)


def _providers(settings: StackSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """Explicit providers only when an endpoint is configured (LocalStack, moto, a dev Vault)."""
    aws_opts: dict[str, Any] = {}
    vault_opts: dict[str, Any] = {}
    if settings.aws_endpoint:
        endpoint = settings.aws_endpoint
        aws_opts["provider"] = aws.Provider(
            "emulator", region=settings.region,
            endpoints=[{service: endpoint for service in AWS_ENDPOINT_SERVICES}],
            s3_use_path_style=True, skip_credentials_validation=True,
            skip_requesting_account_id=True, skip_metadata_api_check="true")
    if settings.vault_address:
        vault_opts["provider"] = vault.Provider("dev-vault", address=settings.vault_address)
    return aws_opts, vault_opts


def _vault_root_credentials(settings: StackSettings) -> dict[str, Any]:
    """The AWS keys Vault's engine signs its IAM calls with (config/root), only when configured: the
    access key id in keyguard:vaultAwsAccessKeyId, the secret key in the SECRET
    keyguard:vaultAwsSecretAccessKey (`pulumi config set --secret`). Unset, Vault uses its own
    environment's credentials (instance profile, ...). pulumi-vault stores both as secrets."""
    secret_key = pulumi.Config(NAMESPACE).get_secret("vaultAwsSecretAccessKey")
    if bool(settings.vault_aws_access_key_id) != (secret_key is not None):
        raise ValueError("keyguard:vaultAwsAccessKeyId and keyguard:vaultAwsSecretAccessKey must be set together")
    if secret_key is None:
        return {}
    return {"access_key": settings.vault_aws_access_key_id, "secret_key": secret_key}


def define(settings: StackSettings | None = None) -> dict[str, Any]:
    """Declare every resource; returns them by role for tests."""
    settings = settings or read_settings()
    aws_opts, vault_opts = _providers(settings)
    aws_ro = pulumi.ResourceOptions(**aws_opts)

    key = aws.kms.Key(
        "ai-app-kms-key",
        description="Customer-managed key for AI application data (SSE-KMS)",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        key_usage="ENCRYPT_DECRYPT",
        enable_key_rotation=True,
        rotation_period_in_days=settings.key_rotation_period_days,
        deletion_window_in_days=settings.key_deletion_window_days,
        opts=aws_ro)
    aws.kms.Alias("ai-app-kms-alias", name=settings.kms_alias_name, target_key_id=key.key_id, opts=aws_ro)

    bucket = aws.s3.Bucket("ai-app-data", bucket_prefix=settings.bucket_prefix, opts=aws_ro)
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        "ai-app-data-encryption",
        bucket=bucket.id,
        rules=[{
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": key.arn,
            },
            "bucket_key_enabled": True,
        }],
        opts=aws_ro)
    public_access = aws.s3.BucketPublicAccessBlock(
        "ai-app-data-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=aws_ro)
    ownership = aws.s3.BucketOwnershipControls(
        "ai-app-data-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
        opts=aws_ro)
    bucket_policy = None
    if settings.tls_only_bucket_policy:
        bucket_policy = aws.s3.BucketPolicy(
            "ai-app-data-tls-only", bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(bucket_tls_only_policy(arn))),
            opts=pulumi.ResourceOptions(**aws_opts, depends_on=[public_access]))

    document = pulumi.Output.all(bucket.arn, key.arn).apply(
        lambda arns: json.dumps(role_policy_document(arns[0], arns[1])))
    boundary = aws.iam.Policy(
        "vault-user-boundary",
        description="Permissions boundary of the IAM users Vault issues: never more than the role document",
        policy=document, opts=aws_ro)

    backend = vault.aws.SecretBackend(
        "ai-app-backend",
        path=settings.vault_backend_path,
        description="AWS secrets engine issuing short-lived credentials for the AI application",
        region=settings.region,
        default_lease_ttl_seconds=settings.default_lease_ttl_seconds,
        max_lease_ttl_seconds=settings.max_lease_ttl_seconds,
        iam_endpoint=settings.aws_endpoint or None,
        sts_endpoint=settings.aws_endpoint or None,
        **_vault_root_credentials(settings),
        opts=pulumi.ResourceOptions(**vault_opts))
    role = vault.aws.SecretBackendRole(
        "ai-app-role",
        backend=backend.path,
        name=settings.vault_role_name,
        credential_type=settings.credential_type,
        policy_document=document,
        permissions_boundary_arn=boundary.arn if settings.credential_type == "iam_user" else None,
        opts=pulumi.ResourceOptions(**vault_opts))

    access = _application_access(settings, backend, role, vault_opts)

    pulumi.export("bucket_name", bucket.bucket)
    pulumi.export("vault_backend", backend.path)
    pulumi.export("kms_key_arn", key.arn)
    pulumi.export("vault_role", role.name)
    return {"key": key, "bucket": bucket, "encryption": encryption, "public_access": public_access,
            "ownership": ownership, "bucket_policy": bucket_policy, "boundary": boundary,
            "backend": backend, "role": role, **access}


def _application_access(settings: StackSettings, backend: Any, role: Any, vault_opts: dict[str, Any]) -> dict[str, Any]:
    """The AI application's way into Vault: an AppRole login (mount with tuned TTLs, a role with
    short-lived tokens and bound, expiring secret ids) whose tokens carry only an ACL policy that
    reads this stack's AWS credentials."""
    opts = pulumi.ResourceOptions(**vault_opts)
    approle = vault.AuthBackend(
        "ai-app-approle",
        type="approle",
        path=settings.approle_path,
        description="AppRole login of the AI application",
        tune={"default_lease_ttl": f"{settings.approle_default_lease_ttl_seconds}s",
              "max_lease_ttl": f"{settings.approle_max_lease_ttl_seconds}s"},
        opts=opts)
    acl = vault.Policy(
        "ai-app-acl-policy",
        name=settings.vault_policy_name,
        policy=pulumi.Output.all(backend.path, role.name).apply(lambda values: app_acl_policy(values[0], values[1])),
        opts=opts)
    login = vault.approle.AuthBackendRole(
        "ai-app-approle-role",
        backend=approle.path,
        role_name=settings.approle_role_name,
        token_policies=[acl.name],
        token_ttl=settings.token_ttl_seconds,
        token_max_ttl=settings.token_max_ttl_seconds,
        bind_secret_id=True,
        secret_id_ttl=settings.secret_id_ttl_seconds,
        secret_id_num_uses=settings.secret_id_num_uses,
        secret_id_bound_cidrs=list(settings.secret_id_bound_cidrs) or None,
        token_bound_cidrs=list(settings.token_bound_cidrs) or None,
        opts=opts)
    # Where the application's deployment reads its role id; the secret id is never exported.
    pulumi.export("approle_role_id_path", pulumi.Output.concat("auth/", approle.path, "/role/", login.role_name,
                                                               "/role-id"))
    pulumi.export("vault_acl_policy", acl.name)
    return {"approle": approle, "acl_policy": acl, "approle_role": login}
