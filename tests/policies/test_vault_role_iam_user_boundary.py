import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, run, with_props

POLICY = "vault-role-iam-user-boundary"


def _role(**changes):
    resources = baseline()
    resources["role"] = with_props(resources["role"], **changes)
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("boundary", [DELETE, None, ""])
def test_iam_user_without_boundary_is_flagged(boundary):
    outcome = run(POLICY, _role(permissionsBoundaryArn=boundary))
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("credential_type", ["assumed_role", "federation_token", "session_token"])
def test_other_types_do_not_need_a_boundary(credential_type):
    assert run(POLICY, _role(credentialType=credential_type, permissionsBoundaryArn=DELETE)).status == "pass"


def test_unknown_boundary_is_unverifiable():
    outcome = run(POLICY, _role(permissionsBoundaryArn=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_unknown_credential_type_is_unverifiable():
    outcome = run(POLICY, _role(credentialType=UNKNOWN, permissionsBoundaryArn=DELETE))
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_non_string_boundary_fails_closed():
    outcome = run(POLICY, _role(permissionsBoundaryArn=True))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("malformed input" in m for m in outcome.messages)
