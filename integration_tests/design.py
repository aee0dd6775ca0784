"""The design of `stack/keyguard_stack/program.py`, provisioned on an AWS emulator with boto3 and
configured in Vault with hvac, from the stack's own values: the same `role_policy_document`, the same
bucket policy builder, the same settings (TTLs, credential type, mount path, role name, key rotation
and deletion window). The Pulumi CLI is not needed: each call below mirrors one resource of the
program, and the comments name it.

Errors a user would hit at run time (Vault unreachable or sealed, the emulator gone) are turned into
`KeyguardRuntimeError` with a message that says which server and what to do, raised within bounded
time: every client here has connect/read timeouts and at most one retry.
"""
from __future__ import annotations

import dataclasses
import json
import secrets
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import hvac
import hvac.exceptions
import requests

from keyguard_stack.documents import bucket_tls_only_policy, role_policy_document
from keyguard_stack.settings import StackSettings

#: Client timeouts (seconds): a dead server must fail a call quickly, never hang it.
AWS_CONNECT_TIMEOUT = 3
AWS_READ_TIMEOUT = 30
VAULT_TIMEOUT = 15


class KeyguardRuntimeError(RuntimeError):
    """A server of the design cannot serve a request; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never show the secret in assertion output or logs
        return f"AwsCredentials(access_key_id={self.access_key_id!r}, secret_access_key=<redacted>)"


def aws_client(service: str, endpoint: str, credentials: AwsCredentials, region: str) -> Any:
    """A boto3 client for the emulator with bounded timeouts and a single retry."""
    config = botocore.config.Config(
        connect_timeout=AWS_CONNECT_TIMEOUT, read_timeout=AWS_READ_TIMEOUT,
        retries={"total_max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"}, region_name=region)
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=region, config=config,
        aws_access_key_id=credentials.access_key_id, aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token)


def call_aws(endpoint: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one boto3 call; connection failures become a clear KeyguardRuntimeError."""
    try:
        return fn(*args, **kwargs)
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError) as exc:
        raise KeyguardRuntimeError(
            f"AWS endpoint {endpoint} is unreachable ({what}): {type(exc).__name__}; "
            f"is the emulator running?") from exc


# --- AWS side ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Design:
    """What was provisioned: the names and ARNs a Pulumi update would have exported."""

    key_id: str
    key_arn: str
    alias: str
    bucket: str
    bucket_arn: str
    boundary_policy_arn: str
    bucket_policy_applied: bool

    @property
    def role_document(self) -> dict[str, Any]:
        return role_policy_document(self.bucket_arn, self.key_arn)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def unique_name(prefix: str) -> str:
    """`prefix` plus a random suffix, as Pulumi's auto-naming (bucket_prefix) does."""
    return f"{prefix}-{secrets.token_hex(4)}"


def provision_design(endpoint: str, admin: AwsCredentials, settings: StackSettings,
                     *, apply_bucket_policy: bool = True) -> Design:
    """Create the design's AWS resources on the emulator, resource by resource as program.py does."""
    kms = aws_client("kms", endpoint, admin, settings.region)
    s3 = aws_client("s3", endpoint, admin, settings.region)
    iam = aws_client("iam", endpoint, admin, settings.region)

    # aws.kms.Key "ai-app-kms-key": symmetric, encrypt/decrypt, rotation on with the stack's period.
    key = call_aws(endpoint, "kms:CreateKey", kms.create_key,
                   Description="Customer-managed key for AI application data (SSE-KMS)",
                   KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    call_aws(endpoint, "kms:EnableKeyRotation", kms.enable_key_rotation, KeyId=key["KeyId"],
             RotationPeriodInDays=settings.key_rotation_period_days)
    # aws.kms.Alias "ai-app-kms-alias".
    alias = "alias/ai-app-data"
    call_aws(endpoint, "kms:CreateAlias", kms.create_alias, AliasName=alias, TargetKeyId=key["KeyId"])

    # aws.s3.Bucket "ai-app-data" with bucket_prefix.
    bucket = unique_name(settings.bucket_prefix)
    create: dict[str, Any] = {"Bucket": bucket}
    if settings.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
    call_aws(endpoint, "s3:CreateBucket", s3.create_bucket, **create)
    arn = bucket_arn(bucket)

    # aws.s3.BucketServerSideEncryptionConfiguration "ai-app-data-encryption".
    call_aws(endpoint, "s3:PutBucketEncryption", s3.put_bucket_encryption, Bucket=bucket,
             ServerSideEncryptionConfiguration={"Rules": [{
                 "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                        "KMSMasterKeyID": key["Arn"]},
                 "BucketKeyEnabled": True}]})
    # aws.s3.BucketPublicAccessBlock "ai-app-data-public-access".
    call_aws(endpoint, "s3:PutPublicAccessBlock", s3.put_public_access_block, Bucket=bucket,
             PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                             "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    # aws.s3.BucketOwnershipControls "ai-app-data-ownership".
    call_aws(endpoint, "s3:PutBucketOwnershipControls", s3.put_bucket_ownership_controls, Bucket=bucket,
             OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    # aws.s3.BucketPolicy "ai-app-data-tls-only" (Deny s3:* when aws:SecureTransport is false). The
    # emulators are reached over plain HTTP. moto evaluates bucket policies for object requests but
    # ignores their conditions, so this Deny would refuse every GetObject/PutObject of the tests, over
    # HTTP or not: against moto it is left out (apply_bucket_policy=False). LocalStack does not evaluate
    # bucket policies: there it is applied and read back, but its TLS condition is not exercised.
    if apply_bucket_policy:
        call_aws(endpoint, "s3:PutBucketPolicy", s3.put_bucket_policy, Bucket=bucket,
                 Policy=json.dumps(bucket_tls_only_policy(arn)))

    # aws.iam.Policy "vault-user-boundary": the role document, used as the permissions boundary of
    # the IAM users Vault creates.
    boundary = call_aws(endpoint, "iam:CreatePolicy", iam.create_policy,
                        PolicyName=unique_name("vault-user-boundary"),
                        Description="Permissions boundary of the IAM users Vault issues: never more than the role document",
                        PolicyDocument=json.dumps(role_policy_document(arn, key["Arn"])))["Policy"]
    return Design(key_id=key["KeyId"], key_arn=key["Arn"], alias=alias, bucket=bucket, bucket_arn=arn,
                  boundary_policy_arn=boundary["Arn"], bucket_policy_applied=apply_bucket_policy)


def create_iam_user_with_keys(endpoint: str, admin: AwsCredentials, region: str, name: str,
                              document: dict[str, Any]) -> AwsCredentials:
    """An IAM user with an inline policy and an access key (the emulator's admin and Vault's root)."""
    iam = aws_client("iam", endpoint, admin, region)
    call_aws(endpoint, "iam:CreateUser", iam.create_user, UserName=name)
    call_aws(endpoint, "iam:PutUserPolicy", iam.put_user_policy, UserName=name, PolicyName=f"{name}-inline",
             PolicyDocument=json.dumps(document))
    key = call_aws(endpoint, "iam:CreateAccessKey", iam.create_access_key, UserName=name)["AccessKey"]
    return AwsCredentials(key["AccessKeyId"], key["SecretAccessKey"])


#: Everything on everything: the test harness's own administrator (never issued to the application).
ADMIN_DOCUMENT = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
#: What Vault's AWS engine needs to create and delete `iam_user` credentials.
VAULT_ROOT_DOCUMENT = {"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": ["iam:*", "sts:GetCallerIdentity"],
                                      "Resource": "*"}]}


# --- Vault side ----------------------------------------------------------------------------------------

def vault_client(address: str, token: str, timeout: float = VAULT_TIMEOUT) -> hvac.Client:
    return hvac.Client(url=address, token=token, timeout=timeout)


def call_vault(client: hvac.Client, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one hvac call; an unreachable or sealed Vault becomes a clear KeyguardRuntimeError."""
    address = client.url
    try:
        return fn(*args, **kwargs)
    except hvac.exceptions.VaultDown as exc:
        raise KeyguardRuntimeError(f"Vault at {address} is sealed ({what}): unseal it before requesting "
                                   f"credentials") from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise KeyguardRuntimeError(f"Vault at {address} is unreachable ({what}): {type(exc).__name__}; "
                                   f"is the server running and VAULT_ADDR right?") from exc


@dataclasses.dataclass(frozen=True)
class VaultBackend:
    path: str
    role: str
    mount_type: str


def configure_vault(client: hvac.Client, settings: StackSettings, design: Design, root: AwsCredentials,
                    endpoint: str, *, path: str | None = None, mount_type: str = "aws",
                    default_lease_ttl: int | None = None, max_lease_ttl: int | None = None,
                    max_retries: int | None = None) -> VaultBackend:
    """The stack's vault.aws.SecretBackend and vault.aws.SecretBackendRole, through hvac.

    `iam_endpoint`/`sts_endpoint` point at the emulator (program.py sets them from keyguard:awsEndpoint).
    TTLs default to the stack's; tests pass others only for the few-second-TTL mount.
    """
    path = path or settings.vault_backend_path
    default_ttl = settings.default_lease_ttl_seconds if default_lease_ttl is None else default_lease_ttl
    max_ttl = settings.max_lease_ttl_seconds if max_lease_ttl is None else max_lease_ttl
    call_vault(client, "enable the AWS secrets engine", client.sys.enable_secrets_engine,
               backend_type=mount_type, path=path,
               description="AWS secrets engine issuing short-lived credentials for the AI application",
               config={"default_lease_ttl": f"{default_ttl}s", "max_lease_ttl": f"{max_ttl}s"})
    root_config: dict[str, Any] = {"access_key": root.access_key_id, "secret_key": root.secret_access_key,
                                   "region": settings.region, "iam_endpoint": endpoint, "sts_endpoint": endpoint}
    if max_retries is not None:
        root_config["max_retries"] = max_retries
    call_vault(client, "configure the AWS root credentials", client.write_data, f"{path}/config/root",
               data=root_config)
    write_role(client, path, settings.vault_role_name, settings.credential_type, design.role_document,
               permissions_boundary_arn=design.boundary_policy_arn if settings.credential_type == "iam_user" else None)
    return VaultBackend(path=path, role=settings.vault_role_name, mount_type=mount_type)


def write_role(client: hvac.Client, path: str, name: str, credential_type: str, document: dict[str, Any],
               *, permissions_boundary_arn: str | None = None) -> None:
    data: dict[str, Any] = {"credential_type": credential_type, "policy_document": json.dumps(document)}
    if permissions_boundary_arn:
        data["permissions_boundary_arn"] = permissions_boundary_arn
    call_vault(client, f"write role {name}", client.write_data, f"{path}/roles/{name}", data=data)


@dataclasses.dataclass(frozen=True)
class IssuedCredentials:
    credentials: AwsCredentials
    lease_id: str
    lease_duration: int
    renewable: bool

    def __repr__(self) -> str:
        return (f"IssuedCredentials({self.credentials!r}, lease_id={self.lease_id!r}, "
                f"lease_duration={self.lease_duration})")


def issue_credentials(client: hvac.Client, path: str, role: str) -> IssuedCredentials:
    """Read `<path>/creds/<role>`: fresh AWS keys under a lease."""
    try:
        response = call_vault(client, f"read {path}/creds/{role}", client.read, f"{path}/creds/{role}")
    except hvac.exceptions.VaultError as exc:
        raise KeyguardRuntimeError(f"Vault at {client.url} could not issue credentials from {path}/creds/{role}: "
                                   f"{_first_line(exc)}") from exc
    if not response or "data" not in response:
        raise KeyguardRuntimeError(f"Vault at {client.url} returned no credentials for {path}/creds/{role}")
    data = response["data"]
    return IssuedCredentials(AwsCredentials(data["access_key"], data["secret_key"], data.get("security_token")),
                             lease_id=response["lease_id"], lease_duration=int(response["lease_duration"]),
                             renewable=bool(response.get("renewable")))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def iam_user_exists(endpoint: str, admin: AwsCredentials, region: str, user: str) -> bool:
    iam = aws_client("iam", endpoint, admin, region)
    try:
        call_aws(endpoint, "iam:GetUser", iam.get_user, UserName=user)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return False
        raise
    return True


# --- the application's way into Vault: AppRole login and its ACL policy -----------------------------------

@dataclasses.dataclass(frozen=True)
class AppRoleLogin:
    """What the stack's AppRole resources create: the auth mount, the role, its ACL policy and role id."""

    mount: str
    role: str
    policy: str
    role_id: str


def configure_approle(client: hvac.Client, settings: StackSettings, backend: VaultBackend, *,
                      mount: str | None = None, policy: str | None = None) -> AppRoleLogin:
    """program.py's vault.AuthBackend "ai-app-approle", vault.Policy "ai-app-acl-policy" and
    vault.approle.AuthBackendRole "ai-app-approle-role", through hvac, from the stack's settings and
    its own `app_acl_policy` builder."""
    from keyguard_stack.documents import app_acl_policy
    mount = mount or settings.approle_path
    policy = policy or settings.vault_policy_name
    # vault.AuthBackend: type approle, tune { default_lease_ttl, max_lease_ttl }.
    call_vault(client, "enable the AppRole auth method", client.sys.enable_auth_method,
               method_type="approle", path=mount, description="AppRole login of the AI application",
               config={"default_lease_ttl": f"{settings.approle_default_lease_ttl_seconds}s",
                       "max_lease_ttl": f"{settings.approle_max_lease_ttl_seconds}s"})
    # vault.Policy: read on <aws mount>/creds/<role>, nothing else.
    call_vault(client, "write the application's ACL policy", client.sys.create_or_update_policy,
               name=policy, policy=app_acl_policy(backend.path, backend.role))
    # vault.approle.AuthBackendRole: short-lived tokens carrying only that policy, bound secret ids.
    call_vault(client, "write the AppRole role", client.auth.approle.create_or_update_approle,
               settings.approle_role_name, mount_point=mount, token_policies=[policy],
               token_ttl=settings.token_ttl_seconds, token_max_ttl=settings.token_max_ttl_seconds,
               bind_secret_id=True, secret_id_ttl=settings.secret_id_ttl_seconds,
               secret_id_num_uses=settings.secret_id_num_uses,
               secret_id_bound_cidrs=list(settings.secret_id_bound_cidrs) or None,
               token_bound_cidrs=list(settings.token_bound_cidrs) or None)
    role_id = call_vault(client, "read the role id", client.auth.approle.read_role_id,
                         settings.approle_role_name, mount_point=mount)["data"]["role_id"]
    return AppRoleLogin(mount=mount, role=settings.approle_role_name, policy=policy, role_id=role_id)


def new_secret_id(client: hvac.Client, login: AppRoleLogin, **options: Any) -> str:
    """What the application's deployment does with an operator's token: a fresh secret id (`ttl`,
    `num_uses` may narrow the role's own bounds)."""
    response = call_vault(client, "generate a secret id", client.write_data,
                          f"auth/{login.mount}/role/{login.role}/secret-id", data=options)
    return response["data"]["secret_id"]


def app_login(address: str, login: AppRoleLogin, secret_id: str) -> tuple[hvac.Client, dict[str, Any]]:
    """The AI application logging in: role id + secret id -> a client holding its token, and the auth block."""
    client = hvac.Client(url=address, timeout=VAULT_TIMEOUT)
    response = call_vault(client, "log in with AppRole", client.auth.approle.login, login.role_id, secret_id,
                          mount_point=login.mount)
    return client, response["auth"]
