"""Scenario: Vault as the deployed stack configured it (mount TTLs, role with the stack's document,
engine endpoints pointing at the emulator, root keys from the stack's config), checked by reading
Vault's own answers."""
from __future__ import annotations

import json

import pytest

from keyguard_stack.documents import role_policy_document

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_mount_has_the_stack_ttls(vault, vault_backend, settings):
    tuned = vault.sys.read_mount_configuration(path=vault_backend.path)["data"]
    assert tuned["default_lease_ttl"] == settings.default_lease_ttl_seconds
    assert tuned["max_lease_ttl"] == settings.max_lease_ttl_seconds
    mounts = vault.sys.list_mounted_secrets_engines()["data"]
    assert mounts[f"{vault_backend.path}/"]["type"] == vault_backend.mount_type


def test_role_carries_the_stack_document(vault, vault_backend, deployment, settings):
    role = vault.read(f"{vault_backend.path}/roles/{vault_backend.role}")["data"]
    assert role["credential_type"] == settings.credential_type
    assert json.loads(role["policy_document"]) == role_policy_document(deployment.stack.bucket_arn,
                                                                      deployment.stack.key_arn)
    if settings.credential_type == "iam_user":
        assert role["permissions_boundary_arn"] == deployment.stack.boundary_policy_arn
    assert not role.get("policy_arns")
    assert not role.get("iam_groups")


def test_engine_talks_to_the_emulator_and_hides_its_secret(vault, vault_backend, deployment, settings):
    config = vault.read(f"{vault_backend.path}/config/root")["data"]
    assert config["iam_endpoint"] == deployment.emulator.endpoint
    assert config["sts_endpoint"] == deployment.emulator.endpoint
    assert config["region"] == settings.region
    assert config["access_key"] == deployment.vault_root.access_key_id
    assert "secret_key" not in config
    assert deployment.vault_root.secret_access_key not in json.dumps(config)
