import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, make, run

POLICY = "vault-role-credential-type"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("credential_type", ["iam_user", "assumed_role", "federation_token"])
def test_allowed_types_pass(credential_type):
    assert run(POLICY, baseline_with("role", credentialType=credential_type)).status == "pass"


def test_session_token_is_flagged():
    outcome = run(POLICY, baseline_with("role", credentialType="session_token"))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("'session_token'" in m for m in outcome.messages)


@pytest.mark.parametrize("credential_type", ["IAM_USER", "root", "", DELETE])
def test_unknown_or_missing_types_are_flagged(credential_type):
    assert run(POLICY, baseline_with("role", credentialType=credential_type)).violations == {(POLICY, "ai-app-role")}


def test_allowed_credential_types_parameter_takes_effect():
    assert run(POLICY, baseline_with("role", credentialType="session_token"),
               {"allowedCredentialTypes": ["session_token"]}).status == "pass"
    assert run(POLICY, baseline(), {"allowedCredentialTypes": ["assumed_role"]}).violations == \
        {(POLICY, "ai-app-role")}


def test_unknown_type_is_unverifiable():
    outcome = run(POLICY, baseline_with("role", credentialType=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_non_string_type_fails_closed():
    outcome = run(POLICY, baseline_with("role", credentialType=["iam_user"]))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("malformed input" in m for m in outcome.messages)


def test_two_roles_one_bad():
    resources = baseline()
    resources["role2"] = make(resources["role"].type, "ai-app-admin", {"backend": "aws-ai-app",
                                                                        "credentialType": "session_token"})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-admin")}
