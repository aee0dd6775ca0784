"""Scenario: leases of the credentials the deployed stack's Vault role issues. Their duration is the
mount's default TTL, renewal is capped at the mount's max TTL, revocation deletes the IAM user (and its
keys stop working, with the error code AWS gives for unknown keys), and with the mount's TTLs set to
seconds (a `pulumi up` of the stack with short TTLs, put back afterwards) credentials expire on their
own. Emulators have no IAM eventual consistency, so there is no propagation delay to wait for; every
wait is a poll with a generous deadline, never a fixed sleep."""
from __future__ import annotations

import time

import botocore.exceptions
import pytest

from . import clients, stack_deploy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

#: Short TTLs (seconds) of the expiry scenarios: long enough for the one or two calls a test makes
#: while the lease lives, even on a loaded 2-core machine; short enough to wait for.
SHORT_DEFAULT_TTL = 10
SHORT_MAX_TTL = 20
#: Bound (seconds), after a lease's end, on Vault's expiration manager revoking it and deleting the user.
EXPIRY_WAIT = 240
POLL = 1.0
#: Time a test may spend between issuing a lease and reading it back (seconds), on a loaded machine.
SLACK = 300


def _owner(deployment, access_key_id: str) -> str | None:
    return clients.access_key_owner(deployment.client("iam"), access_key_id)


def _error_code(call, *args, **kwargs) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response.get("Error", {}).get("Code", "")


def _keys_rejected(deployment, credentials) -> None:
    """Keys whose IAM user is gone are unknown keys, answered as AWS answers them: S3 with
    InvalidAccessKeyId, the query APIs (STS) with InvalidClientTokenId; never a mere AccessDenied."""
    assert _error_code(deployment.client("s3", credentials).list_objects_v2,
                       Bucket=deployment.stack.bucket) == "InvalidAccessKeyId"
    assert _error_code(deployment.client("sts", credentials).get_caller_identity) == "InvalidClientTokenId"


def test_lease_duration_is_the_mount_default(issued, settings):
    assert issued.renewable is True
    assert issued.lease_duration == settings.default_lease_ttl_seconds


def test_lease_lookup_reports_the_mount_default(vault, issued, settings):
    lease = vault.sys.read_lease(lease_id=issued.lease_id)["data"]
    assert settings.default_lease_ttl_seconds - SLACK <= lease["ttl"] <= settings.default_lease_ttl_seconds
    assert lease["renewable"] is True


def test_renewal_is_capped_at_the_mount_max(vault, issued, settings):
    asked = settings.max_lease_ttl_seconds * 3
    renewed = vault.sys.renew_lease(lease_id=issued.lease_id, increment=asked)
    assert renewed["lease_id"] == issued.lease_id
    # Vault caps the lease's whole life at the mount's max TTL, counted from issue time.
    assert settings.max_lease_ttl_seconds - SLACK <= renewed["lease_duration"] <= settings.max_lease_ttl_seconds
    assert renewed["lease_duration"] > settings.default_lease_ttl_seconds
    lease = vault.sys.read_lease(lease_id=issued.lease_id)["data"]
    assert lease["ttl"] <= settings.max_lease_ttl_seconds


def test_revoke_deletes_the_iam_user(vault, vault_backend, deployment):
    issued = clients.issue_credentials(vault, vault_backend.path, vault_backend.role)
    user = _owner(deployment, issued.credentials.access_key_id)
    assert user is not None
    assert deployment.client("iam").get_user(UserName=user)["User"]["UserName"] == user
    vault.sys.revoke_lease(lease_id=issued.lease_id)   # synchronous: the user is gone when it returns
    assert _error_code(deployment.client("iam").get_user, UserName=user) == "NoSuchEntity"
    assert _owner(deployment, issued.credentials.access_key_id) is None


@pytest.mark.iam_enforcement
def test_revoked_keys_stop_working(iam_enforced, vault, vault_backend):
    issued = clients.issue_credentials(vault, vault_backend.path, vault_backend.role)
    app = iam_enforced.client("s3", issued.credentials)
    app.list_objects_v2(Bucket=iam_enforced.stack.bucket)  # works while the lease lives
    vault.sys.revoke_lease(lease_id=issued.lease_id)
    _keys_rejected(iam_enforced, issued.credentials)


@pytest.fixture(scope="module")
def short_backend(deployment, vault_backend, settings):
    """The deployed mount with leases of seconds: the stack updated by `pulumi up` with short
    keyguard:defaultLeaseTtlSeconds/maxLeaseTtlSeconds, and put back to the stack's own afterwards."""
    ws = deployment.workspace
    ws.set_config({"keyguard:defaultLeaseTtlSeconds": SHORT_DEFAULT_TTL, "keyguard:maxLeaseTtlSeconds": SHORT_MAX_TTL})
    try:
        stack_deploy.up(ws)
        yield vault_backend
    finally:
        ws.set_config({"keyguard:defaultLeaseTtlSeconds": settings.default_lease_ttl_seconds,
                       "keyguard:maxLeaseTtlSeconds": settings.max_lease_ttl_seconds})
        stack_deploy.up(ws)


def _wait_until_gone(deployment, user: str, lease_ends: float) -> None:
    """Poll until the IAM user is deleted; fail EXPIRY_WAIT seconds after the lease's end."""
    deadline = lease_ends + EXPIRY_WAIT
    while clients.iam_user_exists(deployment.emulator.endpoint, deployment.admin, deployment.emulator.region, user):
        if time.monotonic() > deadline:
            pytest.fail(f"IAM user {user} still exists {EXPIRY_WAIT} s after its lease ended")
        time.sleep(POLL)


@pytest.fixture(scope="module")
def short_lived(short_backend, vault, deployment) -> tuple[clients.IssuedCredentials, float, str]:
    """Credentials of the short-TTL mount, issued once for both expiry tests (so their waits overlap),
    used once while their lease lives and never renewed: (credentials, when issued, their IAM user)."""
    issued_at = time.monotonic()
    issued = clients.issue_credentials(vault, short_backend.path, short_backend.role)
    deployment.client("s3", issued.credentials).list_objects_v2(Bucket=deployment.stack.bucket)  # they work now
    user = _owner(deployment, issued.credentials.access_key_id)
    assert user is not None
    return issued, issued_at, user


def test_short_ttl_mount_expires_its_credentials(vault, short_backend, short_lived, deployment):
    issued, issued_at, user = short_lived
    assert issued.lease_duration == SHORT_DEFAULT_TTL
    # renewal is capped at the mount's max (shown on a lease of its own, revoked at once)
    other = clients.issue_credentials(vault, short_backend.path, short_backend.role)
    try:
        renewed = vault.sys.renew_lease(lease_id=other.lease_id, increment=3600)
        assert 0 < renewed["lease_duration"] <= SHORT_MAX_TTL
    finally:
        vault.sys.revoke_lease(lease_id=other.lease_id)
    _wait_until_gone(deployment, user, lease_ends=issued_at + SHORT_DEFAULT_TTL)
    assert _owner(deployment, issued.credentials.access_key_id) is None


@pytest.mark.iam_enforcement
def test_short_ttl_credentials_stop_working(iam_enforced, short_lived):
    issued, issued_at, user = short_lived   # worked while the lease lived (the fixture used them)
    _wait_until_gone(iam_enforced, user, lease_ends=issued_at + SHORT_DEFAULT_TTL)
    _keys_rejected(iam_enforced, issued.credentials)
