"""The stack deployed by the real CLI: `pulumi up --policy-pack policy_pack` of `stack/` (a copy, through
toolchain/pulumi_workspace.py's `Workspace`, the code behind `make preview`) on an AWS emulator and a
dev Vault, and the names and ARNs the runtime scenarios use, read from the stack's outputs and
`pulumi stack export`: nothing of the program is re-created by hand.

The Vault engine's root credentials are stack config (keyguard:vaultAwsAccessKeyId and the SECRET
keyguard:vaultAwsSecretAccessKey); the CLI keeps the secret encrypted in the stack's config and state.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

from .clients import AwsCredentials
from .pulumi_cli import REPO, STACK, Workspace, output_of

#: The signature of a secret value in a Pulumi state export.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
#: Bound on one `pulumi up` of the design (seconds): a loaded 2-core machine takes well under it.
UP_TIMEOUT = 900


class DeployError(RuntimeError):
    """`pulumi up` of the stack failed; the message carries the CLI's output."""


@dataclasses.dataclass(frozen=True)
class StackNames:
    """The names a deployment chooses through stack config. Several stacks share one Vault (its mounts
    and ACL policies are global) and one emulator (a KMS alias name is unique per account)."""

    backend_path: str = "aws-ai-app"
    approle_path: str = "approle"
    acl_policy: str = "ai-app-aws-creds"
    kms_alias: str = "alias/ai-app-data"

    @classmethod
    def prefixed(cls, prefix: str) -> "StackNames":
        return cls(backend_path=prefix, approle_path=f"{prefix}-approle", acl_policy=f"{prefix}-creds",
                   kms_alias=f"alias/{prefix}")


@dataclasses.dataclass(frozen=True)
class DeployedStack:
    """What `pulumi up` deployed, from `pulumi stack export`: real ids and ARNs, and the inputs declared."""

    key_id: str
    key_arn: str
    alias: str
    bucket: str
    bucket_arn: str
    boundary_policy_arn: str
    bucket_policy_applied: bool
    backend_path: str
    role: str
    role_document: dict[str, Any]
    approle_mount: str
    approle_role: str
    acl_policy: str
    role_id: str
    outputs: dict[str, Any]

    @classmethod
    def from_export(cls, state: Mapping[str, Any]) -> "DeployedStack":
        resources = state["deployment"]["resources"]

        def one(type_: str) -> dict[str, Any]:
            found = [r for r in resources if r["type"] == type_]
            if len(found) != 1:
                raise DeployError(f"the export has {len(found)} resources of type {type_}, not 1")
            return found[0]

        [stack] = [r for r in resources if r["type"] == "pulumi:pulumi:Stack"]
        key, bucket = one("aws:kms/key:Key"), one("aws:s3/bucket:Bucket")
        role = one("vault:aws/secretBackendRole:SecretBackendRole")
        approle_role = one("vault:appRole/authBackendRole:AuthBackendRole")
        document = role["inputs"]["policyDocument"]
        return cls(
            key_id=key["id"], key_arn=key["outputs"]["arn"], alias=one("aws:kms/alias:Alias")["id"],
            bucket=bucket["id"], bucket_arn=bucket["outputs"]["arn"],
            boundary_policy_arn=one("aws:iam/policy:Policy")["outputs"]["arn"],
            bucket_policy_applied=any(r["type"] == "aws:s3/bucketPolicy:BucketPolicy" for r in resources),
            backend_path=one("vault:aws/secretBackend:SecretBackend")["outputs"]["path"],
            role=role["outputs"]["name"],
            role_document=json.loads(document) if isinstance(document, str) else document,
            approle_mount=one("vault:index/authBackend:AuthBackend")["outputs"]["path"],
            approle_role=approle_role["outputs"]["roleName"], role_id=approle_role["outputs"]["roleId"],
            acl_policy=one("vault:index/policy:Policy")["outputs"]["name"],
            outputs=dict(stack.get("outputs") or {}))


def stack_config(endpoint: str, vault_address: str, vault_root: AwsCredentials, names: StackNames,
                 *, tls_only_bucket_policy: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(plain, secret) stack config of a deployment on the emulator and the dev Vault."""
    plain = {"keyguard:awsEndpoint": endpoint, "keyguard:vaultAddress": vault_address,
             "keyguard:vaultBackendPath": names.backend_path, "keyguard:approlePath": names.approle_path,
             "keyguard:vaultPolicyName": names.acl_policy, "keyguard:kmsAliasName": names.kms_alias,
             "keyguard:vaultAwsAccessKeyId": vault_root.access_key_id,
             "keyguard:tlsOnlyBucketPolicy": str(tls_only_bucket_policy).lower()}
    return plain, {"keyguard:vaultAwsSecretAccessKey": vault_root.secret_access_key}


def workspace(root: Path, toolchain: Mapping[str, str], *, endpoint: str, region: str, credentials: AwsCredentials,
              vault_address: str, vault_token: str, vault_mount_type: str, vault_root: AwsCredentials,
              names: StackNames, tls_only_bucket_policy: bool) -> Workspace:
    """A copy of stack/ with its config for these servers, ready for `up`. `credentials` are what the
    aws provider signs with (the harness's administrator)."""
    ws = Workspace(STACK, root=root, tool_env=toolchain, env={
        "AWS_ACCESS_KEY_ID": credentials.access_key_id, "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "VAULT_TOKEN": vault_token,
        "KEYGUARD_VAULT_AWS_MOUNT_TYPE": vault_mount_type})
    plain, secret = stack_config(endpoint, vault_address, vault_root, names,
                                 tls_only_bucket_policy=tls_only_bucket_policy)
    args = ["config", "set-all"]
    for key, value in plain.items():
        args += ["--plaintext", f"{key}={value}"]
    ws.run(*args, check=True)
    for key, value in secret.items():
        # through stdin: never on a command line (ps) nor in an error message
        proc = subprocess.run([ws.pulumi_bin, "config", "set", "--secret", key], input=value, cwd=ws.dir,
                              env=ws.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DeployError(f"pulumi config set --secret {key} exited {proc.returncode}: "
                              f"{proc.stderr.replace(value, '<redacted>')[-2000:]}")
    return ws


def up(ws: Workspace, *extra: str, policy: bool = True) -> subprocess.CompletedProcess:
    """`pulumi up --policy-pack policy_pack` of the workspace (without the pack if not `policy`); a
    failure raises with the CLI's output."""
    proc = ws.run("up", "--yes", "--skip-preview", *(ws.policy_args() if policy else []), *extra, timeout=UP_TIMEOUT)
    if proc.returncode != 0:
        raise DeployError(f"pulumi up exited {proc.returncode}:\n{output_of(proc)[-6000:]}")
    return proc


def export(ws: Workspace, *, show_secrets: bool = False) -> dict[str, Any]:
    args = ["stack", "export"] + (["--show-secrets"] if show_secrets else [])
    return json.loads(ws.run(*args, check=True).stdout)


ROLE_TYPE = "vault:aws/secretBackendRole:SecretBackendRole"


def with_role(state: Mapping[str, Any], name: str, document: str) -> dict[str, Any]:
    """The export plus a Vault role `name` on the deployed mount whose document is `document` (as Vault
    stores it): the stack's own role entry, copied, renamed, with that document."""
    state = json.loads(json.dumps(state))
    resources = state["deployment"]["resources"]
    [role] = [r for r in resources if r["type"] == ROLE_TYPE]
    extra = json.loads(json.dumps(role))
    extra["urn"] = role["urn"].rsplit("::", 1)[0] + f"::{name}"
    extra["id"] = f"{role['inputs']['backend']}/roles/{name}"
    for props in (extra["inputs"], extra.get("outputs") or {}):
        props.update(name=name, policyDocument=document)
    resources.append(extra)
    return state


def audit(state: Mapping[str, Any], directory: Path, *args: str) -> dict[str, Any]:
    """`keyguard audit --state` of an export, as a user runs it: the JSON report."""
    path = directory / f"state-{len(list(directory.glob('state-*.json')))}.json"
    path.write_text(json.dumps(state))
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "--state", str(path), "--format", "json",
                           "--fail-on", "never", *args], capture_output=True, text=True, timeout=300, cwd=REPO)
    if done.returncode != 0:
        raise AssertionError(f"keyguard audit exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def violated(report: Mapping[str, Any], resource: str) -> set[str]:
    """The policies a report finds violated by the resource named `resource`."""
    return {f["policy"] for f in report["findings"] if f["kind"] == "violation" and f["urn"].endswith(f"::{resource}")}
