import pytest

from tests.baseline import ACL_NAME, DELETE, UNKNOWN, baseline, baseline_with, make, run, with_props

POLICY = "vault-approle-token-policies"
FLAGGED = {(POLICY, "ai-app-approle-role")}


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("policies", [[ACL_NAME, "root"], ["root"], ["ROOT"], [" Root "], f"{ACL_NAME},root"])
def test_root_is_flagged(policies):
    outcome = run(POLICY, baseline_with("approle_role", tokenPolicies=policies))
    assert outcome.violations == FLAGGED
    assert "tokenPolicies contains root: every login gets a root token" in outcome.messages


@pytest.mark.parametrize("policies", [[], None, DELETE, ["default"], [""], "", "default"])
def test_no_policy_of_the_stack_is_flagged(policies):
    outcome = run(POLICY, baseline_with("approle_role", tokenPolicies=policies))
    assert outcome.violations == FLAGGED
    assert any("names no policy of this stack" in m for m in outcome.messages)


@pytest.mark.parametrize("policies", [[ACL_NAME, "default"], [ACL_NAME.upper()], ACL_NAME, f" {ACL_NAME} "])
def test_the_stacks_policy_with_or_without_default_passes(policies):
    assert run(POLICY, baseline_with("approle_role", tokenPolicies=policies)).status == "pass"


@pytest.mark.parametrize("other", ["admin", "ai-app-aws-creds-2", "aws-admin"])
def test_a_policy_not_of_this_stack_is_flagged(other):
    outcome = run(POLICY, baseline_with("approle_role", tokenPolicies=[ACL_NAME, other]))
    assert outcome.violations == FLAGGED
    assert outcome.messages == [f"tokenPolicies names {other!r}, which is not an ACL policy of this stack nor in "
                                "allowedPolicies"]


def test_allowed_policies():
    resources = baseline_with("approle_role", tokenPolicies=[ACL_NAME, "Shared-Read"])
    assert run(POLICY, resources, {"allowedPolicies": ["shared-read"]}).status == "pass"
    assert run(POLICY, resources, {"allowedPolicies": ["root"]}).violations == FLAGGED
    # allowedPolicies never lets root through
    root = baseline_with("approle_role", tokenPolicies=[ACL_NAME, "root"])
    assert run(POLICY, root, {"allowedPolicies": ["root"]}).violations == FLAGGED


def test_deprecated_policies_field_is_judged_too():
    outcome = run(POLICY, baseline_with("approle_role", policies=["root"]))
    assert outcome.violations == FLAGGED


@pytest.mark.parametrize("policies", [UNKNOWN, [ACL_NAME, UNKNOWN]])
def test_unknown_token_policies_are_unverifiable(policies):
    outcome = run(POLICY, baseline_with("approle_role", tokenPolicies=policies))
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED


def test_unknown_stack_policy_name_is_unverifiable():
    resources = baseline()
    resources["acl_policy"] = with_props(resources["acl_policy"], name=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED


@pytest.mark.parametrize("policies", [[42], [ACL_NAME, {"name": "x"}], 7])
def test_malformed_fails_closed(policies):
    outcome = run(POLICY, baseline_with("approle_role", tokenPolicies=policies))
    assert outcome.violations == FLAGGED and "malformed input" in outcome.messages[0]


def test_every_role_is_judged_on_its_own():
    resources = baseline()
    resources["admin"] = make("vault:appRole/authBackendRole:AuthBackendRole", "admin-login",
                              {"backend": "approle", "roleName": "admin", "tokenPolicies": ["root"]})
    resources["pending"] = make("vault:appRole/authBackendRole:AuthBackendRole", "pending-login",
                                {"backend": "approle", "roleName": "p", "tokenPolicies": UNKNOWN})
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "admin-login")} and outcome.unverifiable == {(POLICY, "pending-login")}
