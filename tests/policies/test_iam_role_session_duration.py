import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, make, run

POLICY = "iam-role-session-duration"
ROLE = "aws:iam/role:Role"
ASSUME = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'


def _with_role(duration=DELETE):
    resources = baseline()
    props = {"assumeRolePolicy": ASSUME}
    if duration is not DELETE:
        props["maxSessionDuration"] = duration
    resources["iam_role"] = make(ROLE, "app-role", props)
    return resources


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set()
    assert outcome.status == "not-applicable"


@pytest.mark.parametrize("duration", [DELETE, None, 900, 3600, 3600.0, "3600"])
def test_short_sessions_pass(duration):
    assert run(POLICY, _with_role(duration)).status == "pass"


@pytest.mark.parametrize("duration", [3601, 7200.0, "43200"])
def test_long_sessions_are_flagged(duration):
    outcome = run(POLICY, _with_role(duration))
    assert outcome.violations == {(POLICY, "app-role")}
    assert any("above the limit of 3600" in m for m in outcome.messages)


def test_max_session_duration_parameter_takes_effect():
    assert run(POLICY, _with_role(7200), {"maxSessionDurationSeconds": 7200}).status == "pass"
    assert run(POLICY, _with_role(3600), {"maxSessionDurationSeconds": 900}).violations == {(POLICY, "app-role")}


def test_unknown_duration_is_unverifiable():
    outcome = run(POLICY, _with_role(UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "app-role")}


@pytest.mark.parametrize("duration", ["1h", False, 3600.5])
def test_malformed_duration_fails_closed(duration):
    outcome = run(POLICY, _with_role(duration))
    assert outcome.violations == {(POLICY, "app-role")}
    assert all("malformed input" in m for m in outcome.messages)
