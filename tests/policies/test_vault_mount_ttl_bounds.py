import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, make, run

POLICY = "vault-mount-ttl-bounds"
MOUNT = "vault:index/mount:Mount"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("field", ["defaultLeaseTtlSeconds", "maxLeaseTtlSeconds"])
@pytest.mark.parametrize("value", [0, 0.0, "0", DELETE, None])
def test_zero_or_unset_inherits_768h(field, value):
    outcome = run(POLICY, baseline_with("backend", **{field: value}))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert any(field in m and "768 h" in m for m in outcome.messages)


def test_both_unset_gives_two_messages():
    outcome = run(POLICY, baseline_with("backend", defaultLeaseTtlSeconds=DELETE, maxLeaseTtlSeconds=DELETE))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert len(outcome.messages) == 2


def test_default_above_max_is_flagged():
    outcome = run(POLICY, baseline_with("backend", defaultLeaseTtlSeconds=1800, maxLeaseTtlSeconds=900))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert any("exceeds maxLeaseTtlSeconds" in m for m in outcome.messages)


def test_default_equal_to_max_passes():
    assert run(POLICY, baseline_with("backend", defaultLeaseTtlSeconds=3600, maxLeaseTtlSeconds=3600)).status == "pass"


@pytest.mark.parametrize("value", [3601, 3601.0, "3601", 7200])
def test_default_above_limit_is_flagged(value):
    outcome = run(POLICY, baseline_with("backend", defaultLeaseTtlSeconds=value))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert any("exceeds the limit of 3600" in m for m in outcome.messages)


@pytest.mark.parametrize("value", [86401, "86401", 86401.0, 2764800])
def test_max_above_limit_is_flagged(value):
    outcome = run(POLICY, baseline_with("backend", maxLeaseTtlSeconds=value))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert any("exceeds the limit of 86400" in m for m in outcome.messages)


@pytest.mark.parametrize("default,maximum", [(3600, 86400), (3600.0, 86400.0), ("3600", "86400"), (" 60 ", 120)])
def test_integers_as_floats_and_strings_pass(default, maximum):
    resources = baseline_with("backend", defaultLeaseTtlSeconds=default, maxLeaseTtlSeconds=maximum)
    assert run(POLICY, resources).status == "pass"


def test_parameters_take_effect():
    resources = baseline_with("backend", defaultLeaseTtlSeconds=600, maxLeaseTtlSeconds=1200)
    assert run(POLICY, resources).status == "pass"
    assert run(POLICY, resources, {"maxDefaultLeaseTtlSeconds": 300}).violations == {(POLICY, "ai-app-backend")}
    assert run(POLICY, resources, {"maxLeaseTtlSeconds": 900}).violations == {(POLICY, "ai-app-backend")}
    resources = baseline_with("backend", defaultLeaseTtlSeconds=7200, maxLeaseTtlSeconds=172800)
    assert run(POLICY, resources, {"maxDefaultLeaseTtlSeconds": 7200, "maxLeaseTtlSeconds": 172800}).status == "pass"


@pytest.mark.parametrize("field", ["defaultLeaseTtlSeconds", "maxLeaseTtlSeconds"])
def test_unknown_ttl_is_unverifiable(field):
    outcome = run(POLICY, baseline_with("backend", **{field: UNKNOWN}))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-backend")}


@pytest.mark.parametrize("value", ["1h", True, 3600.5, [3600]])
def test_malformed_ttl_fails_closed(value):
    outcome = run(POLICY, baseline_with("backend", defaultLeaseTtlSeconds=value))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert all("malformed input" in m for m in outcome.messages)


def test_generic_mount_is_judged_too():
    resources = baseline()
    resources["mount"] = make(MOUNT, "kv-mount", {"path": "kv", "type": "kv-v2"})
    assert run(POLICY, resources).violations == {(POLICY, "kv-mount")}
    resources["mount"] = make(MOUNT, "kv-mount", {"path": "kv", "type": "kv-v2",
                                                  "defaultLeaseTtlSeconds": 600.0, "maxLeaseTtlSeconds": 3600.0})
    assert run(POLICY, resources).status == "pass"
