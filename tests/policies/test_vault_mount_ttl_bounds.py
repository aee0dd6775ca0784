import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, make, run, with_props

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
    # the AppRole mount's tuned 3600 s / 14400 s are above these limits too
    assert run(POLICY, resources, {"maxDefaultLeaseTtlSeconds": 300}).violations == {
        (POLICY, "ai-app-backend"), (POLICY, "ai-app-approle")}
    assert run(POLICY, resources, {"maxLeaseTtlSeconds": 900}).violations == {
        (POLICY, "ai-app-backend"), (POLICY, "ai-app-approle")}
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


# --- auth mounts: vault:index/authBackend:AuthBackend through its tune durations ------------------------
APPROLE = {(POLICY, "ai-app-approle")}


def with_tune(**tune):
    resources = baseline()
    current = dict(resources["approle"].props["tune"])
    for key, value in tune.items():
        if value is DELETE:
            current.pop(key, None)
        else:
            current[key] = value
    resources["approle"] = with_props(resources["approle"], tune=current)
    return resources


@pytest.mark.parametrize("default,maximum", [("1h", "4h"), ("3600s", "14400s"), ("3600", "14400"), (3600, 14400.0),
                                             ("60m", "1d"), ("30m", "1h30m")])
def test_auth_mount_tune_durations_pass(default, maximum):
    assert run(POLICY, with_tune(defaultLeaseTtl=default, maxLeaseTtl=maximum)).status == "pass"


@pytest.mark.parametrize("field", ["defaultLeaseTtl", "maxLeaseTtl"])
@pytest.mark.parametrize("value", ["0", "0s", 0, "", None, DELETE])
def test_auth_mount_unset_or_zero_inherits_768h(field, value):
    outcome = run(POLICY, with_tune(**{field: value}))
    assert outcome.violations == APPROLE
    assert any(f"tune.{field}" in m and "768 h" in m for m in outcome.messages)


@pytest.mark.parametrize("tune", [None, {}, DELETE])
def test_auth_mount_without_tune_is_flagged(tune):
    resources = baseline_with("approle", tune=tune)
    outcome = run(POLICY, resources)
    assert outcome.violations == APPROLE and len(outcome.messages) == 2


@pytest.mark.parametrize("tune,message", [
    ({"defaultLeaseTtl": "2h", "maxLeaseTtl": "1h"}, "tune.defaultLeaseTtl 7200 exceeds tune.maxLeaseTtl 3600"),
    ({"defaultLeaseTtl": "61m", "maxLeaseTtl": "4h"}, "tune.defaultLeaseTtl 3660 exceeds the limit of 3600"),
    ({"defaultLeaseTtl": "1h", "maxLeaseTtl": "768h"}, "tune.maxLeaseTtl 2764800 exceeds the limit of 86400"),
    ({"defaultLeaseTtl": "1h", "maxLeaseTtl": "2d"}, "tune.maxLeaseTtl 172800 exceeds the limit of 86400"),
])
def test_auth_mount_bounds(tune, message):
    outcome = run(POLICY, baseline_with("approle", tune=tune))
    assert outcome.violations == APPROLE and message in outcome.messages


@pytest.mark.parametrize("value", ["-1h", "-3600", -60, "1.5h", "0.5s", 3600.5, "1h-", "1 hour", "1H", "1hh", "h",
                                   True, ["1h"], {"h": 1}])
def test_auth_mount_malformed_durations_fail_closed(value):
    outcome = run(POLICY, with_tune(defaultLeaseTtl=value))
    assert outcome.violations == APPROLE
    assert outcome.messages and all("malformed input" in m and "tune.defaultLeaseTtl" in m for m in outcome.messages)


@pytest.mark.parametrize("tune", ["1h", 3600, [{"defaultLeaseTtl": "1h", "maxLeaseTtl": "4h"}] * 2])
def test_auth_mount_malformed_tune_fails_closed(tune):
    outcome = run(POLICY, baseline_with("approle", tune=tune))
    assert outcome.violations == APPROLE and "malformed input" in outcome.messages[0]


def test_auth_mount_tune_as_a_one_item_list_is_read():
    resources = baseline_with("approle", tune=[{"defaultLeaseTtl": "1h", "maxLeaseTtl": "4h"}])
    assert run(POLICY, resources).status == "pass"


@pytest.mark.parametrize("tune", [UNKNOWN, {"defaultLeaseTtl": UNKNOWN, "maxLeaseTtl": "4h"}])
def test_auth_mount_unknown_tune_is_unverifiable(tune):
    outcome = run(POLICY, baseline_with("approle", tune=tune))
    assert outcome.violations == set() and outcome.unverifiable == APPROLE


@pytest.mark.parametrize("value", [-1, "-5", -3600.0])
def test_negative_secrets_mount_ttl_fails_closed(value):
    outcome = run(POLICY, baseline_with("backend", maxLeaseTtlSeconds=value))
    assert outcome.violations == {(POLICY, "ai-app-backend")}
    assert all("malformed input" in m and "negative" in m for m in outcome.messages)
