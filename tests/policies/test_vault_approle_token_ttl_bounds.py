import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, make, run

POLICY = "vault-approle-token-ttl-bounds"
FLAGGED = {(POLICY, "ai-app-approle-role")}


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("field", ["tokenTtl", "tokenMaxTtl"])
@pytest.mark.parametrize("value", [0, 0.0, "0", DELETE, None])
def test_zero_or_unset_inherits_768h(field, value):
    outcome = run(POLICY, baseline_with("approle_role", **{field: value}))
    assert outcome.violations == FLAGGED
    assert outcome.messages == [f"{field} is {'0' if value in (0, '0') else 'not set'}: tokens inherit the mount's "
                                "TTLs and then Vault's system default of 768 h"]


def test_ttl_above_max():
    outcome = run(POLICY, baseline_with("approle_role", tokenTtl=1800, tokenMaxTtl=900))
    assert outcome.violations == FLAGGED and outcome.messages == ["tokenTtl 1800 exceeds tokenMaxTtl 900"]


@pytest.mark.parametrize("ttl,maximum,message", [
    (3601, 14400, "tokenTtl 3601 exceeds the limit of 3600"),
    (3600, 14401.0, "tokenMaxTtl 14401 exceeds the limit of 14400"),
    ("3600", "2764800", "tokenMaxTtl 2764800 exceeds the limit of 14400"),
])
def test_limits(ttl, maximum, message):
    outcome = run(POLICY, baseline_with("approle_role", tokenTtl=ttl, tokenMaxTtl=maximum))
    assert outcome.violations == FLAGGED and outcome.messages == [message]


@pytest.mark.parametrize("period", [1, 3600.0, "86400"])
def test_periodic_tokens_are_flagged(period):
    outcome = run(POLICY, baseline_with("approle_role", tokenPeriod=period))
    assert outcome.violations == FLAGGED and "renewed forever" in outcome.messages[0]


@pytest.mark.parametrize("period", [0, None, DELETE])
def test_no_period_passes(period):
    assert run(POLICY, baseline_with("approle_role", tokenPeriod=period)).status == "pass"


def test_parameters_take_effect():
    resources = baseline_with("approle_role", tokenTtl=7200, tokenMaxTtl=28800)
    assert run(POLICY, resources).violations == FLAGGED
    assert run(POLICY, resources, {"maxTokenTtlSeconds": 7200, "maxTokenMaxTtlSeconds": 28800}).status == "pass"
    assert run(POLICY, baseline(), {"maxTokenTtlSeconds": 600}).violations == FLAGGED


@pytest.mark.parametrize("field", ["tokenTtl", "tokenMaxTtl", "tokenPeriod"])
@pytest.mark.parametrize("value", [-1, "-3600", 3600.5, "1h", True, [3600]])
def test_malformed_negative_or_fractional_fails_closed(field, value):
    outcome = run(POLICY, baseline_with("approle_role", **{field: value}))
    assert outcome.violations == FLAGGED
    assert outcome.messages and all("malformed input" in m and field in m for m in outcome.messages)


@pytest.mark.parametrize("field", ["tokenTtl", "tokenMaxTtl", "tokenPeriod"])
def test_unknown_is_unverifiable(field):
    outcome = run(POLICY, baseline_with("approle_role", **{field: UNKNOWN}))
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED


def test_every_role_is_judged():
    resources = baseline()
    resources["other"] = make("vault:appRole/authBackendRole:AuthBackendRole", "batch-login",
                              {"backend": "approle", "roleName": "batch", "tokenPolicies": ["ai-app-aws-creds"]})
    assert run(POLICY, resources).violations == {(POLICY, "batch-login")}
