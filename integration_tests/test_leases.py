"""Scenario: leases of the issued credentials. Their duration is the mount's default TTL, renewal
is capped at the mount's max TTL, revocation deletes the IAM user (and its keys stop working), and a
mount with a few-second TTL expires its credentials on its own. Emulators have no IAM eventual
consistency, so there is no propagation delay to wait for."""
from __future__ import annotations

import time

import botocore.exceptions
import pytest

from . import design

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SHORT_DEFAULT_TTL = 3  # seconds
SHORT_MAX_TTL = 6
EXPIRY_WAIT = 45       # bound on Vault's expiration manager revoking an expired lease


def _owner(deployment, access_key_id: str) -> str | None:
    """The IAM user holding `access_key_id`, as the emulator answers (None if none does)."""
    iam = deployment.client("iam")
    for user in iam.list_users()["Users"]:
        keys = iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]
        if any(key["AccessKeyId"] == access_key_id for key in keys):
            return user["UserName"]
    return None


def _keys_rejected(deployment, credentials) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        deployment.client("s3", credentials).list_objects_v2(Bucket=deployment.design.bucket)
    code = caught.value.response.get("Error", {}).get("Code", "")
    assert code in ("InvalidAccessKeyId", "InvalidClientTokenId", "AccessDenied", "SignatureDoesNotMatch"), code
    return caught.value


def test_lease_duration_is_the_mount_default(issued, settings):
    assert issued.renewable is True
    assert issued.lease_duration == settings.default_lease_ttl_seconds


def test_lease_lookup_reports_the_mount_default(vault, issued, settings):
    lease = vault.sys.read_lease(lease_id=issued.lease_id)["data"]
    assert settings.default_lease_ttl_seconds - 30 <= lease["ttl"] <= settings.default_lease_ttl_seconds
    assert lease["renewable"] is True


def test_renewal_is_capped_at_the_mount_max(vault, issued, settings):
    asked = settings.max_lease_ttl_seconds * 3
    renewed = vault.sys.renew_lease(lease_id=issued.lease_id, increment=asked)
    assert renewed["lease_id"] == issued.lease_id
    # Vault caps the lease's whole life at the mount's max TTL, counted from issue time.
    assert settings.max_lease_ttl_seconds - 60 <= renewed["lease_duration"] <= settings.max_lease_ttl_seconds
    assert renewed["lease_duration"] > settings.default_lease_ttl_seconds
    lease = vault.sys.read_lease(lease_id=issued.lease_id)["data"]
    assert lease["ttl"] <= settings.max_lease_ttl_seconds


def test_revoke_deletes_the_iam_user(vault, vault_backend, deployment):
    issued = design.issue_credentials(vault, vault_backend.path, vault_backend.role)
    user = _owner(deployment, issued.credentials.access_key_id)
    assert user is not None and design.iam_user_exists(deployment.emulator.endpoint, deployment.admin,
                                                       deployment.emulator.region, user)
    vault.sys.revoke_lease(lease_id=issued.lease_id)
    assert not design.iam_user_exists(deployment.emulator.endpoint, deployment.admin,
                                      deployment.emulator.region, user)
    assert _owner(deployment, issued.credentials.access_key_id) is None


@pytest.mark.iam_enforcement
def test_revoked_keys_stop_working(iam_enforced, vault, vault_backend):
    issued = design.issue_credentials(vault, vault_backend.path, vault_backend.role)
    app = iam_enforced.client("s3", issued.credentials)
    app.list_objects_v2(Bucket=iam_enforced.design.bucket)  # works while the lease lives
    vault.sys.revoke_lease(lease_id=issued.lease_id)
    _keys_rejected(iam_enforced, issued.credentials)


@pytest.fixture
def short_backend(vault, vault_server, deployment, settings):
    """A second mount of the same design whose leases live a few seconds."""
    backend = design.configure_vault(vault, settings, deployment.design, deployment.vault_root,
                                     deployment.emulator.endpoint,
                                     path=design.unique_name(f"{settings.vault_backend_path}-short"),
                                     mount_type=vault_server.aws_mount_type,
                                     default_lease_ttl=SHORT_DEFAULT_TTL, max_lease_ttl=SHORT_MAX_TTL)
    yield backend
    vault.sys.disable_secrets_engine(backend.path)


def _wait_until_gone(deployment, user: str) -> float:
    started = time.monotonic()
    while design.iam_user_exists(deployment.emulator.endpoint, deployment.admin, deployment.emulator.region, user):
        if time.monotonic() - started > EXPIRY_WAIT:
            pytest.fail(f"IAM user {user} still exists {EXPIRY_WAIT} s after its {SHORT_DEFAULT_TTL} s lease")
        time.sleep(0.5)
    return time.monotonic() - started


def test_short_ttl_mount_expires_its_credentials(vault, short_backend, deployment):
    issued = design.issue_credentials(vault, short_backend.path, short_backend.role)
    assert issued.lease_duration == SHORT_DEFAULT_TTL
    user = _owner(deployment, issued.credentials.access_key_id)
    assert user is not None
    renewed = vault.sys.renew_lease(lease_id=issued.lease_id, increment=3600)
    assert renewed["lease_duration"] <= SHORT_MAX_TTL
    waited = _wait_until_gone(deployment, user)
    assert waited <= EXPIRY_WAIT
    assert _owner(deployment, issued.credentials.access_key_id) is None


@pytest.mark.iam_enforcement
def test_short_ttl_credentials_stop_working(iam_enforced, vault, short_backend):
    issued = design.issue_credentials(vault, short_backend.path, short_backend.role)
    iam_enforced.client("s3", issued.credentials).list_objects_v2(Bucket=iam_enforced.design.bucket)
    user = _owner(iam_enforced, issued.credentials.access_key_id)
    assert user is not None
    _wait_until_gone(iam_enforced, user)
    _keys_rejected(iam_enforced, issued.credentials)
