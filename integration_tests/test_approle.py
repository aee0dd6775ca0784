"""Scenario: the AI application's whole way through Vault, as the deployed stack configured it (the
AppRole mount, role and ACL policy `pulumi up` created from program.py): log in with role id
+ secret id, get a token carrying exactly the stack's policy (plus Vault's `default`), read AWS
credentials, write and read an object encrypted with the stack key; the same token is denied
everywhere else; used-up and expired secret ids do not log in; token TTLs are the stack's; revoking
the token revokes the credentials it read. And: ACL policies the pack flags really grant what the
finding says, on this real Vault."""
from __future__ import annotations

import datetime
import re
import time

import botocore.exceptions
import hvac.exceptions
import pytest

from tests.baseline import run as run_policy
from tests.baseline import with_acl_policy

from . import clients

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SHORT_SECRET_ID_TTL = 2   # seconds; only ever used after it has expired, so load cannot make it flaky
SECRET_ID_TIDY_WAIT = 300  # bound on Vault's periodic tidy (every 60 s) deleting an expired secret id
REVOCATION_WAIT = 180     # bound on Vault deleting the IAM user of a revoked token's lease (a loaded machine)


@pytest.fixture(scope="module")
def approle(deployment) -> clients.AppRoleLogin:
    """The deployed stack's AppRole mount, role and ACL policy, and the role id Vault gave the role."""
    stack = deployment.stack
    return clients.AppRoleLogin(mount=stack.approle_mount, role=stack.approle_role, policy=stack.acl_policy,
                                role_id=stack.role_id)


@pytest.fixture
def app(vault, vault_server, approle):
    """The application logged in: (its client, the auth block of the login); its token revoked after."""
    client, auth = clients.app_login(vault_server.address, approle, clients.new_secret_id(vault, approle))
    try:
        yield client, auth
    finally:
        try:
            vault.auth.token.revoke(auth["client_token"])
        except hvac.exceptions.VaultError:
            pass  # revoked by the test


@pytest.fixture(scope="module")
def other_role(vault, vault_backend, deployment):
    """Another role of the same engine, which the application's token must not read."""
    name = clients.unique_name("other-app")
    clients.write_role(vault, vault_backend.path, name, "iam_user", deployment.stack.role_document)
    return name


def test_login_token_carries_exactly_the_stacks_policy(app, approle, settings):
    _, auth = app
    assert sorted(auth["token_policies"]) == sorted([approle.policy, "default"])
    assert auth.get("identity_policies") in (None, [])
    assert auth["lease_duration"] == settings.token_ttl_seconds and auth["renewable"] is True


def test_the_token_reads_credentials_that_reach_the_stack_key(app, vault, vault_backend, deployment):
    client, _ = app
    issued = clients.issue_credentials(client, vault_backend.path, vault_backend.role)
    try:
        s3 = deployment.client("s3", issued.credentials)
        s3.put_object(Bucket=deployment.stack.bucket, Key="approle/app.txt", Body=b"model weights")
        assert s3.get_object(Bucket=deployment.stack.bucket, Key="approle/app.txt")["Body"].read() == b"model weights"
        head = deployment.client("s3").head_object(Bucket=deployment.stack.bucket, Key="approle/app.txt")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] in (deployment.stack.key_arn, deployment.stack.key_id)
    finally:
        vault.sys.revoke_lease(lease_id=issued.lease_id)


def _denied(client, operation: str, path: str) -> None:
    with pytest.raises(hvac.exceptions.Forbidden) as caught:
        if operation == "read":
            client.read(path)
        elif operation == "list":
            client.list(path)
        else:
            client.write_data(path, data={"policy": 'path "*" { capabilities = ["sudo"] }', "policies": ["root"]})
    assert "permission denied" in str(caught.value)


@pytest.mark.parametrize("operation,path", [
    ("read", "sys/mounts"), ("write", "sys/mounts/evil"), ("write", "sys/policies/acl/evil"), ("read", "sys/policies/acl/root"),
    ("list", "sys/policies/acl"), ("write", "auth/token/create"), ("write", "auth/token/create-orphan"),
    ("read", "{engine}/config/root"), ("write", "{engine}/config/root"), ("read", "{engine}/roles/{role}"),
    ("write", "{engine}/roles/evil"), ("list", "{engine}/roles"), ("read", "{engine}/creds/{other}"),
    ("read", "{engine}/sts/{other}"), ("read", "auth/{mount}/role/{app_role}/role-id"),
    ("write", "auth/{mount}/role/{app_role}/secret-id"), ("read", "identity/entity/id"),
])
def test_the_token_is_denied_everywhere_else(app, approle, vault_backend, other_role, operation, path):
    client, _ = app
    path = path.format(engine=vault_backend.path, role=vault_backend.role, other=other_role, mount=approle.mount,
                       app_role=approle.role)
    _denied(client, operation, path)


def test_a_used_up_secret_id_cannot_log_in(vault, vault_server, approle, settings):
    secret_id = clients.new_secret_id(vault, approle)
    tokens = []
    for _ in range(settings.secret_id_num_uses):
        tokens.append(clients.app_login(vault_server.address, approle, secret_id)[1]["client_token"])
    with pytest.raises(hvac.exceptions.VaultError) as caught:
        clients.app_login(vault_server.address, approle, secret_id)
    assert "invalid role or secret id" in str(caught.value).lower()
    for token in tokens:
        vault.auth.token.revoke(token)


def _secret_id_entry(vault, approle, secret_id):
    """Vault's record of a secret id (None once it is gone)."""
    try:
        response = vault.write_data(f"auth/{approle.mount}/role/{approle.role}/secret-id/lookup",
                                    data={"secret_id": secret_id})
    except hvac.exceptions.InvalidRequest:
        return None
    return (response or {}).get("data") if isinstance(response, dict) else None


def test_an_expired_secret_id_cannot_log_in(vault, vault_server, approle):
    """Vault 1.21's AppRole does not compare a secret id's expiration time at login: the periodic tidy
    (run by the rollback manager, every minute) deletes expired secret ids, and from then on they no
    longer log in. The test waits for Vault's own tidy (bounded), never triggers it."""
    secret_id = clients.new_secret_id(vault, approle, ttl=f"{SHORT_SECRET_ID_TTL}s")
    looked_up = _secret_id_entry(vault, approle, secret_id)
    expires, created = _timestamp(looked_up["expiration_time"]), _timestamp(looked_up["creation_time"])
    assert (expires - created).total_seconds() == pytest.approx(SHORT_SECRET_ID_TTL, abs=1)
    deadline = time.monotonic() + SECRET_ID_TIDY_WAIT
    while _secret_id_entry(vault, approle, secret_id) is not None:
        assert time.monotonic() < deadline, f"expired secret id still stored {SECRET_ID_TIDY_WAIT} s after creation"
        time.sleep(2)
    with pytest.raises(hvac.exceptions.VaultError) as caught:
        clients.app_login(vault_server.address, approle, secret_id)
    assert "invalid role or secret id" in str(caught.value).lower()
    fresh = clients.new_secret_id(vault, approle)  # the role itself still works
    vault.auth.token.revoke(clients.app_login(vault_server.address, approle, fresh)[1]["client_token"])


def _timestamp(text: str) -> datetime.datetime:
    """Vault's RFC 3339 times carry nanoseconds, which datetime does not read: keep microseconds."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(text)


def test_token_ttls_are_the_stacks(app, vault, approle, settings):
    client, _ = app
    me = client.auth.token.lookup_self()["data"]
    assert me["creation_ttl"] == settings.token_ttl_seconds
    assert settings.token_ttl_seconds - 120 <= me["ttl"] <= settings.token_ttl_seconds
    assert me.get("period") in (None, 0) and sorted(me["policies"]) == sorted([approle.policy, "default"])
    renewed = client.auth.token.renew_self(increment=settings.token_max_ttl_seconds * 3)["auth"]
    # the token's whole life is capped at the role's max TTL, counted from login
    assert settings.token_max_ttl_seconds - 120 <= renewed["lease_duration"] <= settings.token_max_ttl_seconds
    assert renewed["lease_duration"] > settings.token_ttl_seconds


def test_vault_has_the_stacks_approle_settings(vault, approle, vault_backend, settings):
    role = vault.auth.approle.read_role(approle.role, mount_point=approle.mount)["data"]
    assert role["token_ttl"] == settings.token_ttl_seconds and role["token_max_ttl"] == settings.token_max_ttl_seconds
    assert role["token_period"] == 0 and role["bind_secret_id"] is True
    assert role["secret_id_ttl"] == settings.secret_id_ttl_seconds
    assert role["secret_id_num_uses"] == settings.secret_id_num_uses
    assert role["token_policies"] == [approle.policy]
    tune = vault.sys.read_auth_method_tuning(approle.mount)
    tune = tune.get("data", tune)
    assert tune["default_lease_ttl"] == settings.approle_default_lease_ttl_seconds
    assert tune["max_lease_ttl"] == settings.approle_max_lease_ttl_seconds
    from keyguard_stack.documents import app_acl_policy
    stored = vault.sys.read_policy(approle.policy)["data"]["rules"]
    assert stored == app_acl_policy(vault_backend.path, vault_backend.role)


def _owner(deployment, access_key_id: str) -> str | None:
    return clients.access_key_owner(deployment.client("iam"), access_key_id)


def _read_then_revoke_token(client, vault, vault_backend, deployment, settings):
    """The application reads credentials, then its token is revoked; returns them once Vault has
    deleted their IAM user (bounded wait: Vault revokes a token's leases in the background)."""
    issued = clients.issue_credentials(client, vault_backend.path, vault_backend.role)
    user = _owner(deployment, issued.credentials.access_key_id)
    assert user is not None
    deployment.client("s3", issued.credentials).list_objects_v2(Bucket=deployment.stack.bucket)  # they work
    client.auth.token.revoke_self()
    deadline = time.monotonic() + REVOCATION_WAIT
    while clients.iam_user_exists(deployment.emulator.endpoint, deployment.admin, settings.region, user):
        assert time.monotonic() < deadline, f"IAM user {user} still exists {REVOCATION_WAIT} s after the token's revocation"
        time.sleep(0.5)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        vault.sys.read_lease(lease_id=issued.lease_id)
    return issued


def test_revoking_the_token_revokes_the_credentials_it_read(app, vault, vault_backend, deployment, settings):
    client, _ = app
    issued = _read_then_revoke_token(client, vault, vault_backend, deployment, settings)
    assert _owner(deployment, issued.credentials.access_key_id) is None


def test_revoked_tokens_credentials_stop_working(iam_enforced, app, vault, vault_backend, settings):
    client, _ = app
    issued = _read_then_revoke_token(client, vault, vault_backend, iam_enforced, settings)
    # unknown keys, answered as AWS answers them: S3 InvalidAccessKeyId, STS InvalidClientTokenId
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam_enforced.client("s3", issued.credentials).list_objects_v2(Bucket=iam_enforced.stack.bucket)
    assert caught.value.response.get("Error", {}).get("Code", "") == "InvalidAccessKeyId"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam_enforced.client("sts", issued.credentials).get_caller_identity()
    assert caught.value.response.get("Error", {}).get("Code", "") == "InvalidClientTokenId"


# --- broad ACL policies the pack flags, tried on the real Vault -------------------------------------------

SYS_READER = 'path "sys/mounts" { capabilities = ["read"] }\n'


def _token_with(vault, text: str) -> tuple[str, hvac.Client]:
    name = clients.unique_name("flagged")
    vault.sys.create_or_update_policy(name=name, policy=text)
    token = vault.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
    return name, hvac.Client(url=vault.url, token=token, timeout=clients.VAULT_TIMEOUT)


@pytest.mark.parametrize("text,policy,says", [
    ('path "+/mounts" { capabilities = ["read"] }', "vault-acl-policy-scoped-to-stack", "reaches beyond this stack"),
    ('path "s*" { capabilities = ["read", "list"] }', "vault-acl-policy-least-privilege", "covers a whole mount"),
    ('{"path": {"+/mounts": {"capabilities": ["read"]}}}', "vault-acl-policy-scoped-to-stack",
     "reaches beyond this stack"),  # Vault's JSON syntax, judged and enforced like the HCL
])
def test_flagged_policies_read_vaults_own_configuration(vault, app, text, policy, says):
    outcome = run_policy(policy, with_acl_policy(text))
    assert outcome.violations == {(policy, "ai-app-acl-policy")} and any(says in m for m in outcome.messages)
    app_client, _ = app
    _denied(app_client, "read", "sys/mounts")  # the stack's own token cannot ...
    name, flagged = _token_with(vault, text)
    try:
        assert "sys/" in flagged.read("sys/mounts")["data"]  # ... a token with the flagged policy can
    finally:
        vault.auth.token.revoke(flagged.token)
        vault.sys.delete_policy(name)


def test_flagged_write_on_auth_mints_a_more_powerful_login(vault, vault_server, approle):
    """`create`/`update` under auth/ (flagged by vault-acl-policy-least-privilege) lets a token define an
    AppRole role of its choosing, and log in with it to get policies it never had."""
    text = f'path "auth/{approle.mount}/role/*" {{ capabilities = ["create", "read", "update"] }}'
    outcome = run_policy("vault-acl-policy-least-privilege", with_acl_policy(text))
    assert outcome.violations == {("vault-acl-policy-least-privilege", "ai-app-acl-policy")}
    assert any("auth/" in m and "create/update" in m for m in outcome.messages)
    reader = clients.unique_name("sys-reader")
    vault.sys.create_or_update_policy(name=reader, policy=SYS_READER)
    name, flagged = _token_with(vault, text)
    evil = clients.unique_name("evil")
    try:
        _denied(flagged, "read", "sys/mounts")
        flagged.auth.approle.create_or_update_approle(evil, mount_point=approle.mount, token_policies=[reader])
        role_id = flagged.auth.approle.read_role_id(evil, mount_point=approle.mount)["data"]["role_id"]
        secret_id = flagged.write_data(f"auth/{approle.mount}/role/{evil}/secret-id")["data"]["secret_id"]
        minted, auth = clients.app_login(vault_server.address, clients.AppRoleLogin(approle.mount, evil, reader, role_id),
                                        secret_id)
        assert reader in auth["token_policies"]
        assert "sys/" in minted.read("sys/mounts")["data"]
        vault.auth.token.revoke(auth["client_token"])
    finally:
        vault.auth.token.revoke(flagged.token)
        vault.auth.approle.delete_role(evil, mount_point=approle.mount)
        vault.sys.delete_policy(name)
        vault.sys.delete_policy(reader)


# --- the pack's reading of ACL policies against Vault's own answers ---------------------------------------

PROBES = ("sys/mounts/x", "sys/policies/acl/x", "auth/token/create", "identity/entity", "{engine}/config/root",
          "{engine}/roles/x")
POWERS = {"create", "update", "delete", "patch", "sudo"}


@pytest.mark.parametrize("text,vault_grants", [
    ('path "+/config/*" { capabilities = ["update"] }', True),
    ('path "s*" { capabilities = ["create"] }', True),
    ('path "/sys/mounts/*" { capabilities = ["update"] }', True),
    ('path "{engine}/+/root" { capabilities = ["patch"] }', True),
    ('path "+/+/create" { capabilities = ["update"] }', True),
    ('{"path": {"identity/*": {"capabilities": ["create"]}}}', True),
    ('path "auth/token/create" { policy = "write" }', True),
    ('path "sys/mounts/x" { capabilities = ["update"] }\npath "sys/mounts/x" { capabilities = ["deny"] }', False),
    ('path "sys/leases/renew" { capabilities = ["update"] }', False),
    ('path "{engine}/creds/x" { capabilities = ["read", "update"] }', False),
])
def test_vault_grants_on_protected_paths_are_always_flagged(vault, vault_backend, text, vault_grants):
    """Whenever Vault itself (sys/capabilities) says a policy gives write or sudo on one of Vault's or the
    engine's configuration paths, vault-acl-policy-least-privilege flags that policy."""
    text = text.replace("{engine}", vault_backend.path)
    probes = [p.format(engine=vault_backend.path) for p in PROBES]
    name, token = _token_with(vault, text)
    try:
        answers = vault.sys.get_capabilities(paths=probes, token=token.token)
        answers = answers.get("data", answers)
        granted = {p: set(answers.get(p, [])) & POWERS for p in probes}
    finally:
        vault.auth.token.revoke(token.token)
        vault.sys.delete_policy(name)
    assert any(granted.values()) == vault_grants, granted
    outcome = run_policy("vault-acl-policy-least-privilege", with_acl_policy(text))
    expected = {("vault-acl-policy-least-privilege", "ai-app-acl-policy")} if vault_grants else set()
    assert outcome.violations == expected, (granted, outcome.messages)


@pytest.mark.parametrize("text", [
    'path "x" { capabilities = ["READ"] }', 'path "x+*" { capabilities = ["read"] }',
    'path "x" { capabilitiez = ["read"] }', 'path "x" { policy = "admin" }', 'path "x" { capabilities = [read }',
    'key "x" { capabilities = ["read"] }', '{"path": {"x": {"capabilities": ["sudoo"]}}}',
    'path "x" { capabilities = "sudo" }', '{"path": {"x": {"capabilities": "read"}}}',
])
def test_what_vault_refuses_the_pack_fails_closed_on(vault, text):
    from keyguard_policies.values import Malformed
    from keyguard_policies.vault_acl import parse
    with pytest.raises(Malformed):
        parse(text)
    name = clients.unique_name("refused")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        vault.sys.create_or_update_policy(name=name, policy=text)


@pytest.mark.parametrize("text", [
    'path "/a/b" { capabilities = ["read"] }', '{"path": {"a/b": {"capabilities": ["read"]}}}',
    'path "a/b" { policy = "read" }', 'path "a/b" { capabilities = ["read"] }\npath "a/b" { capabilities = ["list"] }',
    'path "a/+/c*" { capabilities = ["read"] }\n# a comment\npath "a" { capabilities = [] }',
])
def test_what_the_pack_reads_vault_accepts(vault, text):
    from keyguard_policies.vault_acl import parse
    assert parse(text)
    name = clients.unique_name("accepted")
    vault.sys.create_or_update_policy(name=name, policy=text)
    vault.sys.delete_policy(name)
