import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, run

POLICY = "vault-approle-secret-id-bounds"
FLAGGED = {(POLICY, "ai-app-approle-role")}


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("bind", [False, "false", "False"])
def test_unbound_secret_id_is_flagged(bind):
    outcome = run(POLICY, baseline_with("approle_role", bindSecretId=bind))
    assert outcome.violations == FLAGGED and outcome.messages == ["bindSecretId is false: the role id alone logs in"]


@pytest.mark.parametrize("bind", [True, "true", DELETE, None])
def test_bound_or_default_passes(bind):
    # unset is the provider's and Vault's default: true
    assert run(POLICY, baseline_with("approle_role", bindSecretId=bind)).status == "pass"


@pytest.mark.parametrize("ttl", [0, "0", DELETE, None])
def test_secret_ids_that_never_expire_are_flagged(ttl):
    outcome = run(POLICY, baseline_with("approle_role", secretIdTtl=ttl))
    assert outcome.violations == FLAGGED and "never expire" in outcome.messages[0]


@pytest.mark.parametrize("ttl,flagged", [(86400, False), (86401, True), (1, False), ("604800", True)])
def test_secret_id_ttl_limit(ttl, flagged):
    outcome = run(POLICY, baseline_with("approle_role", secretIdTtl=ttl))
    assert outcome.violations == (FLAGGED if flagged else set())


def test_num_uses_not_checked_by_default():
    assert run(POLICY, baseline_with("approle_role", secretIdNumUses=0)).status == "pass"
    assert run(POLICY, baseline_with("approle_role", secretIdNumUses=DELETE)).status == "pass"


@pytest.mark.parametrize("uses,flagged", [(1, False), (3, False), (4, True), (0, True), (DELETE, True)])
def test_num_uses_when_a_limit_is_set(uses, flagged):
    outcome = run(POLICY, baseline_with("approle_role", secretIdNumUses=uses), {"maxSecretIdNumUses": 3})
    assert outcome.violations == (FLAGGED if flagged else set())


def test_parameters_take_effect():
    assert run(POLICY, baseline(), {"maxSecretIdTtlSeconds": 600}).violations == FLAGGED
    assert run(POLICY, baseline_with("approle_role", secretIdTtl=172800), {"maxSecretIdTtlSeconds": 172800}).status == "pass"


@pytest.mark.parametrize("field,value", [("secretIdTtl", -1), ("secretIdTtl", 0.5), ("secretIdTtl", "1h"),
                                         ("bindSecretId", "yes"), ("bindSecretId", 1), ("secretIdNumUses", -1),
                                         ("secretIdNumUses", 1.5)])
def test_malformed_fails_closed(field, value):
    outcome = run(POLICY, baseline_with("approle_role", **{field: value}), {"maxSecretIdNumUses": 1})
    assert outcome.violations == FLAGGED
    assert outcome.messages and all("malformed input" in m and field in m for m in outcome.messages)


@pytest.mark.parametrize("field", ["bindSecretId", "secretIdTtl", "secretIdNumUses"])
def test_unknown_is_unverifiable(field):
    outcome = run(POLICY, baseline_with("approle_role", **{field: UNKNOWN}), {"maxSecretIdNumUses": 1})
    assert outcome.violations == set() and outcome.unverifiable == FLAGGED
