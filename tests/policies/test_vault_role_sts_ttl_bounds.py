import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, run

POLICY = "vault-role-sts-ttl-bounds"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("field", ["defaultStsTtl", "maxStsTtl"])
@pytest.mark.parametrize("value", [3600, 3600.0, "3600"])
def test_sts_ttl_on_iam_user_is_flagged(field, value):
    outcome = run(POLICY, baseline_with("role", **{field: value}))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(field in m and "iam_user" in m for m in outcome.messages)


def test_zero_sts_ttl_on_iam_user_passes():
    assert run(POLICY, baseline_with("role", defaultStsTtl=0, maxStsTtl=0.0)).status == "pass"


@pytest.mark.parametrize("credential_type", ["assumed_role", "federation_token", "session_token"])
def test_sts_ttls_within_bounds_pass(credential_type):
    resources = baseline_with("role", credentialType=credential_type, defaultStsTtl=900, maxStsTtl=43200)
    assert run(POLICY, resources).status == "pass"


@pytest.mark.parametrize("credential_type", ["assumed_role", "federation_token"])
def test_sts_ttls_unset_pass(credential_type):
    assert run(POLICY, baseline_with("role", credentialType=credential_type)).status == "pass"


@pytest.mark.parametrize("field", ["defaultStsTtl", "maxStsTtl"])
@pytest.mark.parametrize("value", [899, 43201, 899.0, "43201", 1])
def test_sts_ttl_outside_bounds_is_flagged(field, value):
    other = "maxStsTtl" if field == "defaultStsTtl" else "defaultStsTtl"
    resources = baseline_with("role", credentialType="assumed_role", **{field: value, other: DELETE})
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(f"{field} {int(float(value))} is outside [900, 43200]" in m for m in outcome.messages)


def test_default_above_max_is_flagged():
    outcome = run(POLICY, baseline_with("role", credentialType="federation_token", defaultStsTtl=7200, maxStsTtl=3600))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("exceeds maxStsTtl" in m for m in outcome.messages)


@pytest.mark.parametrize("default,maximum", [(3600, 7200), (3600.0, 7200.0), ("3600", "7200")])
def test_integers_as_floats_and_strings(default, maximum):
    resources = baseline_with("role", credentialType="assumed_role", defaultStsTtl=default, maxStsTtl=maximum)
    assert run(POLICY, resources).status == "pass"


def test_parameters_take_effect():
    resources = baseline_with("role", credentialType="assumed_role", defaultStsTtl=900, maxStsTtl=3600)
    assert run(POLICY, resources).status == "pass"
    assert run(POLICY, resources, {"maxStsTtlSeconds": 1800}).violations == {(POLICY, "ai-app-role")}
    assert run(POLICY, resources, {"minStsTtlSeconds": 1000}).violations == {(POLICY, "ai-app-role")}
    resources = baseline_with("role", credentialType="assumed_role", defaultStsTtl=600, maxStsTtl=600)
    assert run(POLICY, resources, {"minStsTtlSeconds": 600}).status == "pass"


@pytest.mark.parametrize("changes", [{"credentialType": "assumed_role", "maxStsTtl": UNKNOWN},
                                     {"credentialType": UNKNOWN}, {"defaultStsTtl": UNKNOWN}])
def test_unknown_values_are_unverifiable(changes):
    outcome = run(POLICY, baseline_with("role", **changes))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("changes", [{"credentialType": "assumed_role", "maxStsTtl": "12h"},
                                     {"credentialType": 3}])
def test_malformed_values_fail_closed(changes):
    outcome = run(POLICY, baseline_with("role", **changes))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("malformed input" in m for m in outcome.messages)
