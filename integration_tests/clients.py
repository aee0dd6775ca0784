"""The clients the integration tests talk to the servers with, and the few things they do that a
user of the deployed stack does too: boto3 and hvac clients with bounded timeouts, reading
credentials from the deployed Vault role (`issue_credentials`), the AppRole login of the
application, and the harness's own IAM users (its administrator and Vault's root user), which exist
before the stack and are not part of it. The stack itself is deployed by `pulumi up` (`stack_deploy.py`).

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


def unique_name(prefix: str) -> str:
    """`prefix` plus a random suffix, as Pulumi's auto-naming (bucket_prefix) does."""
    return f"{prefix}-{secrets.token_hex(4)}"


# --- the harness's own IAM users ------------------------------------------------------------------------

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


def write_role(client: hvac.Client, path: str, name: str, credential_type: str, document: dict[str, Any],
               *, permissions_boundary_arn: str | None = None) -> None:
    """A Vault role on a deployed mount: the tests' own extra roles (documents the pack flags), or an
    out-of-band change of the stack's role that the test puts back."""
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


def access_key_owner(iam: Any, access_key_id: str) -> str | None:
    """The IAM user holding `access_key_id`, as the emulator answers (None if none does): how the tests
    see that Vault created, and on revocation deleted, the user behind issued credentials."""
    for user in iam.list_users()["Users"]:
        keys = iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]
        if any(key["AccessKeyId"] == access_key_id for key in keys):
            return user["UserName"]
    return None


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
    """What the stack's AppRole resources created: the auth mount, the role, its ACL policy and role id."""

    mount: str
    role: str
    policy: str
    role_id: str


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
