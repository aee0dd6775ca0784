import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, run

POLICY = "vault-role-iam-user-boundary"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("boundary", [DELETE, None, ""])
def test_iam_user_without_boundary_is_flagged(boundary):
    outcome = run(POLICY, baseline_with("role", permissionsBoundaryArn=boundary))
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("credential_type", ["assumed_role", "federation_token", "session_token"])
def test_other_types_do_not_need_a_boundary(credential_type):
    resources = baseline_with("role", credentialType=credential_type, permissionsBoundaryArn=DELETE)
    assert run(POLICY, resources).status == "pass"


def test_unknown_boundary_is_unverifiable():
    outcome = run(POLICY, baseline_with("role", permissionsBoundaryArn=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_unknown_credential_type_is_unverifiable():
    outcome = run(POLICY, baseline_with("role", credentialType=UNKNOWN, permissionsBoundaryArn=DELETE))
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_non_string_boundary_fails_closed():
    outcome = run(POLICY, baseline_with("role", permissionsBoundaryArn=True))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("malformed input" in m for m in outcome.messages)
