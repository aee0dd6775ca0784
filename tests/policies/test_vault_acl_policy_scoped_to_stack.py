"""The ACL policy reaches this stack's own credentials path and nothing beside it: other roles of the
engine, other mounts, globs and `+` segments that match more than the stack's paths."""
import json

import pytest

from tests.baseline import CREDS_PATH, UNKNOWN, baseline, make, run, with_acl_policy, with_props

POLICY = "vault-acl-policy-scoped-to-stack"
FLAGGED = {(POLICY, "ai-app-acl-policy")}
AWS_ROLE = "vault:aws/secretBackendRole:SecretBackendRole"


def hcl(*paths: str, capabilities: str = '["read"]') -> str:
    return "\n".join(f'path "{p}" {{ capabilities = {capabilities} }}' for p in paths)


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set() and outcome.status == "pass"


@pytest.mark.parametrize("path", [CREDS_PATH, "/" + CREDS_PATH, "aws-ai-app/sts/ai-app", "auth/approle/login"])
def test_the_stacks_own_credentials_paths_pass(path):
    assert run(POLICY, with_acl_policy(hcl(path))).status == "pass"


@pytest.mark.parametrize("path", [
    "aws-ai-app/creds/other-role", "aws-ai-app/creds/*", "aws-ai-app/creds/ai-app*", "aws-ai-app/creds/+",
    "aws-ai-app/+/ai-app", "+/creds/ai-app", "aws-ai-app/config/root", "aws-ai-app/roles/ai-app", "aws-ai-app/*",
    "AWS-AI-APP/creds/ai-app", "aws/creds/ai-app", "secret/data/app", "sys/mounts", "*", "+",
])
def test_paths_beyond_the_stack_are_flagged(path):
    outcome = run(POLICY, with_acl_policy(hcl(CREDS_PATH, path)))
    assert outcome.violations == FLAGGED
    assert outcome.messages == [f'path "{path}" reaches beyond this stack (its AWS roles\' creds/sts paths and its own mounts)']


def test_deny_rules_grant_nothing_and_pass():
    text = hcl(CREDS_PATH) + "\n" + hcl("sys/*", "aws-ai-app/creds/*", capabilities='["deny"]')
    assert run(POLICY, with_acl_policy(text)).status == "pass"


def test_another_role_of_the_stack_is_in_scope():
    resources = with_acl_policy(hcl(CREDS_PATH, "aws-ai-app/creds/batch"))
    assert run(POLICY, resources).violations == FLAGGED
    resources["batch"] = make(AWS_ROLE, "batch-role", {"backend": "aws-ai-app", "name": "batch",
                                                       "credentialType": "iam_user", "policyDocument": "{}"})
    assert run(POLICY, resources).status == "pass"


def test_paths_under_the_stacks_other_mounts_pass():
    resources = with_acl_policy(hcl(CREDS_PATH, "kv/data/app/*", "auth/approle/login"))
    outcome = run(POLICY, resources)
    assert outcome.violations == FLAGGED
    assert outcome.messages == ['path "kv/data/app/*" reaches beyond this stack (its AWS roles\' creds/sts paths and '
                                "its own mounts)"]  # auth/approle is the stack's own auth mount
    resources["kv"] = make("vault:index/mount:Mount", "kv-mount", {"path": "kv", "type": "kv-v2"})
    assert run(POLICY, resources).status == "pass"
    del resources["approle"], resources["approle_role"]
    assert run(POLICY, resources).violations == FLAGGED


@pytest.mark.parametrize("allowed,passes", [
    (["secret/data/app"], True), (["secret/data/*"], True), (["secret/+/app"], True), (["secret/data/ap"], False),
    (["secret/data/app/*"], False), (["other/*"], False),
])
def test_allowed_paths(allowed, passes):
    resources = with_acl_policy(hcl(CREDS_PATH, "secret/data/app"))
    outcome = run(POLICY, resources, {"allowedPaths": allowed})
    assert outcome.violations == (set() if passes else FLAGGED)


def test_a_glob_is_in_scope_only_inside_an_allowed_glob():
    resources = with_acl_policy(hcl(CREDS_PATH, "secret/data/app/*"))
    assert run(POLICY, resources, {"allowedPaths": ["secret/data/*"]}).status == "pass"
    assert run(POLICY, resources, {"allowedPaths": ["secret/data/app"]}).violations == FLAGGED


def test_json_syntax_is_judged_like_hcl():
    doc = {"path": {CREDS_PATH: {"capabilities": ["read"]}, "aws-ai-app/creds/*": {"capabilities": ["read"]}}}
    assert run(POLICY, with_acl_policy(json.dumps(doc))).violations == FLAGGED


@pytest.mark.parametrize("resource,prop,path", [("role", "backend", CREDS_PATH), ("role", "name", CREDS_PATH),
                                               ("approle", "path", "auth/approle/login")])
def test_unknown_mount_or_role_is_unverifiable(resource, prop, path):
    resources = with_acl_policy(hcl(CREDS_PATH, path))
    resources[resource] = with_props(resources[resource], **{prop: UNKNOWN})
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED and outcome.status == "unverifiable"


def test_unknown_policy_text_is_unverifiable():
    outcome = run(POLICY, with_acl_policy(UNKNOWN))
    assert outcome.unverifiable == FLAGGED and outcome.violations == set()


def test_malformed_policy_fails_closed():
    outcome = run(POLICY, with_acl_policy('path "x" { capabilities = ["rEad"] }'))
    assert outcome.violations == FLAGGED and "invalid capability 'rEad'" in outcome.messages[0]
