"""The application's Vault ACL policy, rewritten the ways an attacker (or a hurried operator) would
widen it: wildcards, whole mounts, sudo, writes on Vault's own configuration, `+` segments and globs
reaching sys/, parameter wildcards, old-style `policy = "sudo"`, JSON instead of HCL."""
import json

import pytest

from tests.baseline import CREDS_PATH, UNKNOWN, baseline, make, run, with_acl_policy, with_props

POLICY = "vault-acl-policy-least-privilege"
FLAGGED = {(POLICY, "ai-app-acl-policy")}


def hcl(*rules: tuple[str, str]) -> str:
    return "\n".join(f'path "{path}" {{\n  {body}\n}}' for path, body in rules)


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set() and outcome.status == "pass"


@pytest.mark.parametrize("path", ["*", "+", "/*", "sys/*", "auth/*", "identity/*", "aws-ai-app/*", "s*", "sys*",
                                  "+/*", "kv/*", "secret*"])
def test_every_path_or_a_whole_mount_is_flagged(path):
    outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, 'capabilities = ["read"]'), (path, 'capabilities = ["read"]'))))
    assert outcome.violations == FLAGGED
    assert any("every path" in m or "a whole mount" in m for m in outcome.messages)


@pytest.mark.parametrize("capabilities", ['["read", "sudo"]', '["sudo"]'])
def test_sudo_is_flagged_anywhere(capabilities):
    outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, f"capabilities = {capabilities}"))))
    assert outcome.violations == FLAGGED
    assert any("sudo" in m for m in outcome.messages)


@pytest.mark.parametrize("path", [
    "sys/policies/acl/admin", "sys/mounts/new", "/sys/auth/userpass", "SYS/policies/acl/x", "auth/token/create",
    "auth/approle/role/ai-app/secret-id", "identity/entity", "aws-ai-app/config/root", "aws-ai-app/roles/ai-app",
    "aws-ai-app/roles/*", "+/config/root", "+/roles/admin", "+/policies/acl/x", "+/+/acl/admin", "sys/leases/*",
    "sys/leases/renew*", "s+/x", "aws-ai-app/+/root", "team/aws/config/root",
])
@pytest.mark.parametrize("capability", ["create", "update", "delete", "patch"])
def test_writes_on_vault_or_engine_configuration_are_flagged(path, capability):
    outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, 'capabilities = ["read"]'),
                                              (path, f'capabilities = ["{capability}"]'))), config=None)
    if path == "s+/x":  # "s+" is a literal segment: Vault reads no wildcard there
        assert outcome.violations == set()
        return
    if path == "team/aws/config/root":  # a nested mount: judged once the stack declares it
        assert outcome.violations == set()
        resources = with_acl_policy(hcl((path, f'capabilities = ["{capability}"]')))
        resources["mount"] = make("vault:aws/secretBackend:SecretBackend", "team-aws",
                                  {"path": "team/aws", "defaultLeaseTtlSeconds": 60, "maxLeaseTtlSeconds": 60})
        assert run(POLICY, resources).violations == FLAGGED
        return
    assert outcome.violations == FLAGGED
    assert any(capability in m and "configuration" in m for m in outcome.messages)


@pytest.mark.parametrize("path", ["sys/leases/renew", "sys/leases/lookup", "sys/renew", "/sys/renew"])
def test_the_default_policys_lease_paths_pass(path):
    outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, 'capabilities = ["read"]'), (path, 'capabilities = ["update"]'))))
    assert outcome.status == "pass"


@pytest.mark.parametrize("path", ["sys/policies/acl/x", "auth/token/create", "aws-ai-app/config/root"])
def test_reading_or_denying_configuration_is_not_a_write(path):
    for body in ('capabilities = ["read", "list"]', 'capabilities = ["deny"]', 'policy = "deny"'):
        outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, 'capabilities = ["read"]'), (path, body))))
        assert outcome.status == "pass", body


def test_a_deny_block_for_the_same_path_cancels_the_grant():
    # Vault merges blocks of one path; deny wins
    text = hcl(("sys/mounts/x", 'capabilities = ["update"]'), ("sys/mounts/x", 'capabilities = ["deny"]'))
    assert run(POLICY, with_acl_policy(text)).status == "pass"


def test_a_duplicated_block_adds_its_capabilities():
    text = hcl((CREDS_PATH, 'capabilities = ["read"]'), (CREDS_PATH, 'capabilities = ["sudo"]'))
    assert run(POLICY, with_acl_policy(text)).violations == FLAGGED


@pytest.mark.parametrize("old,flagged", [("read", False), ("deny", False), ("write", False), ("sudo", True)])
def test_old_style_policy_field(old, flagged):
    outcome = run(POLICY, with_acl_policy(hcl((CREDS_PATH, f'policy = "{old}"'))))
    assert outcome.violations == (FLAGGED if flagged else set())


def test_old_style_write_on_sys_is_flagged():
    assert run(POLICY, with_acl_policy(hcl(("sys/mounts/x", 'policy = "write"')))).violations == FLAGGED


@pytest.mark.parametrize("params,flagged", [
    ('{ "*" = [] }', True), ('{ "policies" = [] }', True), ('{ "Policies" = [] }', True),
    ('{ "policies" = ["*"] }', True), ('{ "policies" = ["default", "**"] }', True),
    ('{ "policies" = ["ai-app-aws-creds"] }', False), ('{ "ttl" = [] }', False),
])
def test_allowed_parameters_wildcards(params, flagged):
    text = hcl((CREDS_PATH, f'capabilities = ["read"]\n  allowed_parameters = {params}'))
    outcome = run(POLICY, with_acl_policy(text))
    assert outcome.violations == (FLAGGED if flagged else set())
    if flagged:
        assert any("allowed_parameters" in m for m in outcome.messages)


def test_json_syntax_is_judged_like_hcl():
    same = {"path": {"sys/mounts/x": {"capabilities": ["update"]}}}
    assert run(POLICY, with_acl_policy(json.dumps(same))).violations == FLAGGED
    listed = {"path": [{CREDS_PATH: {"capabilities": ["read"]}}, {"auth/token/create": {"capabilities": ["update"]}}]}
    assert run(POLICY, with_acl_policy(json.dumps(listed))).violations == FLAGGED
    assert run(POLICY, with_acl_policy(json.dumps({"path": {CREDS_PATH: {"capabilities": ["read"]}}}))).status == "pass"


def test_each_violation_names_its_path():
    text = hcl(("*", 'capabilities = ["read"]'), ("auth/token/create", 'capabilities = ["update"]'))
    outcome = run(POLICY, with_acl_policy(text))
    assert outcome.violations == FLAGGED
    assert sorted(m.split('"')[1] for m in outcome.messages) == ["*", "auth/token/create"]


@pytest.mark.parametrize("text,defect", [
    ('path "x" { capabilities = [read }', "is not valid HCL"),
    ('path "x" { capabilities = ["READ"] }', "invalid capability 'READ'"),
    ('path "x" { capabilities = ["read,update"] }', "invalid capability"),
    ('path "x" { capabilities = "sudo" }', "capabilities is 'sudo', not a list"),
    ('{"path": {"x": {"capabilities": "sudo"}}}', "capabilities is 'sudo', not a list"),
    ('path "x" { capabilities = [read] }', "not a plain quoted string"),
    ('path "x" {\n capabilities = ["read"]\n capabilities = ["sudo"]\n}', "twice"),
    ('path "x" { capabilities = ["read"] \n allowed_parameters = { "k" = [], "K" = ["a"] } }', "twice"),
    ('path "x+*" { capabilities = ["read"] }', "'+*' is forbidden"),
    ('path "x" { policy = "admin" }', "invalid policy"),
    ('path "x" { capabilitiez = ["read"] }', "capabilitiez"),
    ('path { capabilities = ["read"] }', "one quoted label"),
    ('path "x" "y" { capabilities = ["read"] }', "exactly one label"),
    ('key "x" { capabilities = ["read"] }', "top-level key 'key'"),
    ('{"path": {"x": {"capabilities": ["read"]}', "is not valid JSON"),
    ('{"path": ["x"]}', "not"),
    ('path "x" { capabilities = <<EOT\nread\nEOT\n}', "not a plain quoted string"),
])
def test_unreadable_policies_fail_closed_with_the_defect(text, defect):
    outcome = run(POLICY, with_acl_policy(text))
    assert outcome.violations == FLAGGED
    assert len(outcome.messages) == 1 and "malformed input" in outcome.messages[0] and defect in outcome.messages[0]


@pytest.mark.parametrize("value", [42, ["path"], {"path": {}}, None])
def test_a_policy_that_is_not_text_fails_closed(value):
    outcome = run(POLICY, with_acl_policy(value))
    assert outcome.violations == FLAGGED and "malformed input" in outcome.messages[0]


def test_an_unknown_policy_is_unverifiable_never_passed():
    outcome = run(POLICY, with_acl_policy(UNKNOWN))
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED and outcome.status == "unverifiable"


def test_an_unknown_mount_path_leaves_writes_unverifiable():
    resources = with_acl_policy(hcl((CREDS_PATH, 'capabilities = ["read"]'), ("team/aws/x", 'capabilities = ["update"]')))
    resources["backend"] = with_props(resources["backend"], path=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED
    assert run(POLICY, {**resources, "acl_policy": baseline()["acl_policy"]}).status == "pass"  # reads only


def test_every_acl_policy_of_the_stack_is_judged_on_its_own():
    resources = baseline()
    resources["admin"] = make("vault:index/policy:Policy", "admin-policy",
                              {"name": "admin", "policy": hcl(("*", 'capabilities = ["sudo"]'))})
    resources["broken"] = make("vault:index/policy:Policy", "broken-policy", {"name": "b", "policy": "path {"})
    resources["pending"] = make("vault:index/policy:Policy", "pending-policy", {"name": "p", "policy": UNKNOWN})
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "admin-policy"), (POLICY, "broken-policy")}
    assert outcome.unverifiable == {(POLICY, "pending-policy")}
