"""keyguard's offline `vault` provider on a real dev Vault (`own_vault`, conftest.py), called as the
engine calls it: the AppRole types (auth backend with tune, role with roleId output, policy) and the
AWS secrets mount (with its root keys) are created, read, updated and deleted for real."""
from __future__ import annotations

import asyncio
import sys

import pytest

from . import pulumi_cli

sys.path.insert(0, str(pulumi_cli.REPO / "toolchain" / "providers"))

from keyguard_providers import vault as vault_provider  # noqa: E402
from keyguard_providers.base import to_plain  # noqa: E402
from pulumi.provider.experimental.property_value import PropertyValue  # noqa: E402
from pulumi.provider.experimental.provider import (CheckRequest, ConfigureRequest, CreateRequest,  # noqa: E402
                                                   DeleteRequest, ReadRequest, UpdateRequest)

pytestmark = pytest.mark.integration


def run(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def pv(value) -> PropertyValue:
    if isinstance(value, dict):
        return PropertyValue({k: pv(v) for k, v in value.items()})
    if isinstance(value, list):
        return PropertyValue([pv(v) for v in value])
    return PropertyValue(float(value) if isinstance(value, int) and not isinstance(value, bool) else value)


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::keyguard::{type_}::{name}"


@pytest.fixture
def provider(own_vault: VaultServer):
    p = vault_provider.VaultProvider("vault", vault_provider.TYPES)
    run(p.configure(ConfigureRequest({}, {"address": pv(own_vault.address), "token": PropertyValue(own_vault.token, is_secret=True)},
                                     True, True)))
    return p


def create(p, type_, name, inputs):
    checked = run(p.check(CheckRequest(urn(type_, name), {}, {k: pv(v) for k, v in inputs.items()}, b"seed")))
    assert not checked.failures, [f.reason for f in checked.failures]
    resp = run(p.create(CreateRequest(urn(type_, name), checked.inputs, 0, False)))
    return resp.resource_id, checked.inputs, resp.properties


def test_approle_types_lifecycle(provider, own_vault):
    client = own_vault.client()
    auth, auth_in, _ = create(provider, "vault:index/authBackend:AuthBackend", "approle",
                              {"type": "approle", "path": "approle-ai", "tune": {"defaultLeaseTtl": "30m",
                                                                                "maxLeaseTtl": "1h"}})
    tuned = client.sys.read_auth_method_tuning("approle-ai")["data"]
    assert (tuned["default_lease_ttl"], tuned["max_lease_ttl"]) == (1800, 3600)
    policy_id, _, _ = create(provider, "vault:index/policy:Policy", "reader",
                             {"name": "ai-reader", "policy": 'path "aws-ai-app/creds/ai-app" { capabilities = ["read"] }'})
    assert "aws-ai-app/creds/ai-app" in client.sys.read_policy("ai-reader")["data"]["rules"]
    role_type = "vault:appRole/authBackendRole:AuthBackendRole"
    role_id, role_in, role_out = create(provider, role_type, "ai-app", {
        "backend": "approle-ai", "roleName": "ai-app", "tokenPolicies": ["ai-reader"], "tokenTtl": 900,
        "tokenMaxTtl": 3600, "secretIdTtl": 600, "secretIdNumUses": 1, "secretIdBoundCidrs": ["10.0.0.0/8"]})
    real_role_id = client.read("auth/approle-ai/role/ai-app/role-id")["data"]["role_id"]
    assert to_plain(role_out["roleId"]) == real_role_id
    data = client.read(role_id)["data"]
    assert (data["token_ttl"], data["token_max_ttl"], data["secret_id_num_uses"]) == (900, 3600, 1)
    news = {**role_in, "tokenTtl": pv(600)}
    run(provider.update(UpdateRequest(urn(role_type, "ai-app"), role_id, role_out, news, 0, [], False)))
    assert client.read(role_id)["data"]["token_ttl"] == 600
    run(provider.delete(DeleteRequest(urn(role_type, "ai-app"), role_id, role_out, 0)))
    gone = run(provider.read(ReadRequest(urn(role_type, "ai-app"), role_id, role_out, role_in)))
    assert gone.resource_id == ""
    run(provider.delete(DeleteRequest(urn("vault:index/policy:Policy", "reader"), policy_id, {}, 0)))
    run(provider.delete(DeleteRequest(urn("vault:index/authBackend:AuthBackend", "approle"), auth, {}, 0)))
    assert "approle-ai/" not in client.sys.list_auth_methods()["data"]


def test_credential_type_outside_vaults_set_fails_check(provider):
    checked = run(provider.check(CheckRequest(urn("vault:aws/secretBackendRole:SecretBackendRole", "r"), {},
                                              {k: pv(v) for k, v in {"backend": "aws", "name": "r",
                                                                      "credentialType": "root_user"}.items()}, b"")))
    assert [f.property for f in checked.failures] == ["credentialType"]


def test_secret_backend_root_keys_reach_vault_and_come_back_secret(provider, own_vault):
    """The engine may hand the keys unmarked (a program that did not use get_secret): the provider
    still returns both as secrets, as pulumi-vault's schema marks them, and Vault gets them."""
    type_ = "vault:aws/secretBackend:SecretBackend"
    checked = run(provider.check(CheckRequest(urn(type_, "aws"), {}, {
        "path": pv("aws-provider-test"), "region": pv("us-east-1"), "accessKey": pv("AKIAKEYGUARDTEST0001"),
        "secretKey": pv("not-a-real-secret-key"), "defaultLeaseTtlSeconds": pv(60), "maxLeaseTtlSeconds": pv(120)},
        b"")))
    assert not checked.failures
    assert checked.inputs["secretKey"].is_secret and checked.inputs["accessKey"].is_secret
    created = run(provider.create(CreateRequest(urn(type_, "aws"), checked.inputs, 0, False)))
    try:
        assert created.properties["secretKey"].is_secret and created.properties["accessKey"].is_secret
        assert not created.properties["path"].is_secret
        root = own_vault.client().read("aws-provider-test/config/root")["data"]
        assert root["access_key"] == "AKIAKEYGUARDTEST0001" and "secret_key" not in root
        read = run(provider.read(ReadRequest(urn(type_, "aws"), created.resource_id, created.properties,
                                             checked.inputs)))
        assert read.properties["secretKey"].is_secret
    finally:
        run(provider.delete(DeleteRequest(urn(type_, "aws"), created.resource_id, created.properties, 0)))
